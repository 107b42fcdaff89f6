"""Layer 2 of the guard: the parsed query (`json_serialize_sql`), walked node by node.

Every table it names must be an analyst view, or a CTE visible at that point (DuckDB's own
scoping: earlier siblings, and itself only when recursive); every table function one of a few
that only make rows; no sequence or log functions, no built-in macro that reads the catalog, no
qualified function; no table-reference or SHOW kind the walk does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from desk import store as db
from desk.notebook.catalog import (
    _WRITING_FUNCTIONS,
    ANALYST_SCHEMA,
    ANALYST_VIEWS,
    TABLE_FUNCTIONS,
    _Catalog,
)
from desk.notebook.errors import NotebookQueryError, NotebookRefused

# Scalar functions that bind a query given as text, which the checks cannot see into.
_SQL_TEXT_FUNCTIONS = frozenset({"json_serialize_plan"})
_FILE_FUNCTION = re.compile(
    r"^(read_|parquet_|iceberg_|delta_|glob$|sniff_csv$|query$|query_table$|"
    r"json_execute_serialized_sql$|.*_scan$)"
)
# The node kinds of a parsed table reference the walk understands.
_TABLE_REFS = frozenset(
    {
        "BASE_TABLE",
        "JOIN",
        "SUBQUERY",
        "TABLE_FUNCTION",
        "EXPRESSION_LIST",
        "EMPTY",
        "PIVOT",
        "SHOW_REF",
    }
)


def _parse_tree(cur: db.Cursor, text: str) -> dict[str, Any]:
    raw = cur.execute("SELECT json_serialize_sql(?)", [text]).fetchall()[0][0]
    doc = json.loads(raw)
    if doc.get("error"):
        if doc.get("error_type") == "parser":
            raise NotebookQueryError(str(doc.get("error_message", "syntax error")))
        raise NotebookRefused(
            "The notebook cannot check this query, so it does not run it "
            f"({doc.get('error_message', 'unsupported')})."
        )
    statements = doc.get("statements", [])
    if len(statements) != 1 or not isinstance(statements[0].get("node"), dict):
        raise NotebookRefused("The notebook runs one statement per cell.")
    return statements[0]["node"]


def _is_show_tables(node: Mapping[str, Any]) -> bool:
    ref = node.get("from_table") or {}
    return (
        node.get("type") == "SELECT_NODE"
        and ref.get("type") == "SHOW_REF"
        and ref.get("show_type") == "SHOW_SPECIAL"
        and _unquote(ref.get("table_name", "")).lower() == "tables"
        and not node.get("cte_map", {}).get("map")
        and not node.get("where_clause")
        and not node.get("modifiers")
        and [item.get("class") for item in node.get("select_list", [])] == ["STAR"]
    )


def _shown_view(node: Mapping[str, Any]) -> str | None:
    """The view of a `SHOW <view>` statement (checked already), else None."""
    ref = node.get("from_table") or {}
    if (
        node.get("type") == "SELECT_NODE"
        and ref.get("type") == "SHOW_REF"
        and ref.get("show_type") == "SHOW"
        and not node.get("where_clause")
        and not node.get("modifiers")
    ):
        name = _unquote(str(ref.get("table_name", ""))).lower()
        return name if name in ANALYST_VIEWS else None
    return None


def _check_tree(node: Any, catalog: _Catalog) -> None:
    """Refuse any table, table function or function the notebook does not allow."""
    _walk(node, frozenset(), catalog)


def _walk(node: Any, ctes: frozenset[str], catalog: _Catalog) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, ctes, catalog)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        # A CTE is visible to the CTEs after it and to the query; to itself only when it is
        # recursive. (DuckDB may see more; it never sees fewer, so a name taken for a CTE
        # here is one in DuckDB too.)
        visible = set(ctes)
        for entry in cte_map["map"]:
            name = str(entry["key"]).lower()
            body = entry.get("value")
            own = {name} if _is_recursive(body, name) else set()
            _walk(body, frozenset(visible | own), catalog)
            visible.add(name)
        ctes = frozenset(visible)
        node = {key: value for key, value in node.items() if key != "cte_map"}

    kind = node.get("type")
    if "class" not in node and (("alias" in node and "sample" in node) or kind in _TABLE_REFS):
        # A table reference (expressions have a class; query nodes neither alias nor sample).
        if kind not in _TABLE_REFS:
            raise NotebookRefused(f"The notebook cannot check a {kind} in a query.")
        if kind == "BASE_TABLE":
            _check_table(node, ctes, catalog)
        elif kind == "TABLE_FUNCTION":
            # The function is checked as a table function, then only its parts are walked.
            function = node.get("function") or {}
            _check_table_function(function)
            for key, value in [*node.items(), *function.items()]:
                if key != "function" and isinstance(value, dict | list):
                    _walk(value, ctes, catalog)
            return
        elif kind == "SHOW_REF":
            _check_show(node, catalog)

    if node.get("class") in ("FUNCTION", "WINDOW", "AGGREGATE"):
        _check_function(node, catalog)

    for value in node.values():
        if isinstance(value, dict | list):
            _walk(value, ctes, catalog)


def _is_recursive(body: Any, name: str) -> bool:
    if not isinstance(body, dict):
        return False
    query = body.get("query_node") or body.get("query", {}).get("node") or {}
    return query.get("type") == "RECURSIVE_CTE_NODE" and str(query.get("cte_name")).lower() == name


def _check_table(node: Mapping[str, Any], ctes: frozenset[str], catalog: _Catalog) -> None:
    name = str(node.get("table_name", ""))
    schema = str(node.get("schema_name", "") or "").lower()
    database = str(node.get("catalog_name", "") or "").lower()
    if node.get("at_clause"):
        raise NotebookRefused("Time travel (AT ...) is not available in the notebook.")
    qualified = bool(schema or database)
    if not qualified and name.lower() in ctes:
        return
    if (
        name.lower() in catalog.views
        and schema in ("", ANALYST_SCHEMA)
        and database in ("", catalog.database.lower())
        and (schema or not database)
    ):
        return
    shown = ".".join(part for part in (database, schema, name) if part)
    if any(mark in name for mark in ("/", "\\", "://")) or re.search(r"\.\w+$", name):
        raise NotebookRefused(
            f"The notebook cannot read files or URLs ({shown!r}); it reads the analyst views "
            f"only: {', '.join(ANALYST_VIEWS)}."
        )
    raise NotebookRefused(
        f"The notebook reads the analyst views only ({', '.join(ANALYST_VIEWS)}); "
        f"{shown!r} is not one of them."
    )


def _check_table_function(function: Mapping[str, Any]) -> None:
    name = str(function.get("function_name", "")).lower()
    if function.get("schema") or function.get("catalog"):
        raise NotebookRefused(f"Qualified table functions are not available ({name}).")
    if name in TABLE_FUNCTIONS:
        return
    if _FILE_FUNCTION.match(name):
        raise NotebookRefused(
            f"{name}() is not available in the notebook: it reads files, URLs or other "
            f"queries. In FROM you can use the analyst views and {', '.join(TABLE_FUNCTIONS)}."
        )
    raise NotebookRefused(
        f"{name}() is not available in the notebook. In FROM you can use the analyst views "
        f"({', '.join(ANALYST_VIEWS)}) and {', '.join(TABLE_FUNCTIONS)}."
    )


def _check_function(node: Mapping[str, Any], catalog: _Catalog) -> None:
    name = str(node.get("function_name", "")).lower()
    if node.get("schema") or node.get("catalog"):
        raise NotebookRefused(
            f"Qualified function names are not available in the notebook ({name})."
        )
    if name in _WRITING_FUNCTIONS:
        raise NotebookRefused(f"The notebook is read-only: {name}() changes the database.")
    if name in _SQL_TEXT_FUNCTIONS:
        raise NotebookRefused(
            f"{name}() runs SQL given as text, which the notebook cannot check; write the "
            "query itself instead."
        )
    if name in catalog.denied_functions:
        raise NotebookRefused(
            f"{name}() reads the database catalog and is not available in the notebook."
        )


def _check_show(node: Mapping[str, Any], catalog: _Catalog) -> None:
    show = node.get("show_type")
    if show in ("DESCRIBE", "SUMMARY", "SHOW") and node.get("query"):
        return  # the query inside is walked like any other
    if show in ("DESCRIBE", "SUMMARY", "SHOW") and not node.get("query"):
        name = _unquote(str(node.get("table_name", ""))).lower()
        schema = str(node.get("schema_name", "") or "").lower()
        database = str(node.get("catalog_name", "") or "").lower()
        if (
            name in catalog.views
            and schema in ("", ANALYST_SCHEMA)
            and database in ("", catalog.database.lower())
        ):
            return
        raise NotebookRefused(
            f"The notebook describes the analyst views only ({', '.join(ANALYST_VIEWS)}); "
            f"{node.get('table_name', '')!r} is not one of them."
        )
    raise NotebookRefused(
        "The notebook shows the analyst views only: use SHOW TABLES, DESCRIBE <view> or "
        "SUMMARIZE <view>."
    )


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name
