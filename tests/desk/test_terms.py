"""A comment's terms, as "top terms" counts them: its words in its own language (Chinese,
Japanese and Thai split by dictionary), folded, without stop words, emoji, links, handles,
numbers or laughter, each once; and every term is found by the Comments page's search."""

from __future__ import annotations

import duckdb
import pytest

from desk.moderation.terms import TERMS_VERSION, fold_term, stop_words, tokenise


def terms(text: str | None, language: str | None) -> list[str]:
    return tokenise([text], [language])[0]


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("这双鞋质量太差了，我要退款！客服也不回 😡", "zh",
     ["这双鞋", "质量", "太差", "我要", "退款", "客服", "回"]),
    ("送料無料ですか？このスニーカーが欲しいです", "ja", ["送料", "無料", "スニーカー"]),
    ("รองเท้าสวยมาก ราคาเท่าไหร่คะ ส่งฟรีไหม", "th", ["รองเท้า", "สวย", "ราคา", "ฟรี", "ไหม"]),
    ("배송이 너무 느려요 사이즈가 작아요", "ko", ["배송", "너무", "느려요", "사이즈", "작아요"]),
    ("الحذاء رائع جدا لكن السعر غالي", "ar", ["الحذاء", "رائع", "جدا", "السعر", "غالي"]),
    ("I love these sneakers!! Where can I buy them?", "en", ["love", "sneakers", "buy"]),
    ("¿Cuánto cuesta el envío a México? Me encantan las zapatillas", "es",
     ["cuesta", "envío", "méxico", "encantan", "zapatillas"]),
    ("Die Qualität ist leider mies, ich will mein Geld zurück", "de",
     ["qualität", "leider", "mies", "geld"]),
    ("C'est trop beau, j'adore l'article ! Quel est le prix ?", "fr", ["adore", "article", "prix"]),
    ("Quanto costa la spedizione? Dell'anno scorso era più economico", "it",
     ["costa", "spedizione", "economico"]),
    ("Chegou rápido, amei o tênis!", "pt", ["chegou", "rápido", "amei", "tênis"]),
    ("Harganya berapa kak? Bisa kirim ke Jakarta?", "id", ["harganya", "kirim", "jakarta"]),
    ("İstanbul'a kargo var mı? Fiyatı çok pahalı", "tr", ["istanbul", "kargo", "fiyatı", "pahalı"]),
])
def test_each_language_is_split_into_its_words_without_stop_words(text, language, expected):
    assert terms(text, language) == expected


def test_chinese_and_japanese_are_split_by_dictionary_not_kept_as_one_run():
    assert terms("多少钱？在哪里买", "zh") == ["钱", "买"]  # particles, pronouns, numerals out
    assert terms("3週間前に注文したのにまだ届かない", "ja") == ["週間", "前", "注文", "届か"]


def test_han_and_kana_inside_another_language_go_to_their_segmenter():
    assert terms("Love it! 这个颜色好看", "en") == ["love", "颜色", "好看"]
    assert terms("so cute 送料無料", "en") == ["cute", "送料", "無料"]
    assert terms("nice รองเท้าสวย", "en") == ["nice", "รองเท้า", "สวย"]


def test_links_handles_hashtags_numbers_emoji_and_laughter_are_dropped():
    text = ("sneakers https://shop.example.com/x?a=1 www.example.org shop.example.store "
            "@brand_official #fyp 100% 2025 😍😍 🔥 haha jajaja wkwkwk kkkk lol xD")
    assert terms(text, "en") == ["sneakers"]
    assert terms("ㅋㅋㅋ 배송 ㅠㅠ", "ko") == ["배송"]
    assert terms("哈哈哈 好看", "zh") == ["好看"]
    assert terms("最高ｗｗｗ", "ja") == ["最高"]
    assert terms("สวยมาก 555", "th") == ["สวย"]


def test_one_letter_words_go_but_one_han_character_is_a_word():
    assert terms("a b c x sneakers", "en") == ["sneakers"]
    assert terms("钱", "zh") == ["钱"]


def test_terms_are_folded_and_counted_once_per_comment_in_order_of_appearance():
    assert terms("Sneakers sneakers SNEAKERS ＣＯＯＬ sneakers", "en") == ["sneakers", "cool"]
    assert terms("The brand's T-shirt is ÉNORME, don't buy", "en") == [
        "brand", "t-shirt", "énorme", "buy"]


def test_stop_words_depend_on_the_language_and_english_ones_go_everywhere():
    assert "die" in stop_words("de") and "die" not in stop_words("en")
    assert terms("die Jacke", "de") == ["jacke"]
    assert terms("die jacket", "en") == ["die", "jacket"]
    assert terms("the jacke", "de") == ["jacke"]
    assert "primero" not in terms("Primero", "und")  # unknown language: every list applies


def test_an_empty_or_missing_text_has_no_terms_and_languages_must_match_texts():
    assert tokenise([None, "", "   ", "😍"], [None, "en", "und", "und"]) == [[], [], [], []]
    with pytest.raises(ValueError, match="one language"):
        tokenise(["a", "b"], ["en"])


def test_the_version_names_the_tokeniser_generation():
    assert TERMS_VERSION == "words-1"


def test_fold_keeps_accents_and_makes_full_width_letters_plain():
    assert fold_term("ÉTÉ Ｃａｆé") == "été café"
    assert fold_term("İstanbul’s") == "istanbul's"


def test_every_term_is_found_by_the_comments_search_in_its_own_comment():
    """The Comments page's search is an ILIKE substring match on the stored text: a term
    clicked in the chart finds the comments it came from."""
    from desk.moderation.classify import Classifier
    from tiktok_sandbox.corpus import COMMENTS

    texts = [line.replace("{product}", "sneakers") for kinds in COMMENTS.values()
             for lines in kinds.values() for line in lines]
    languages = Classifier([]).classify_many(texts)["language"].tolist()
    pairs = [(text, term) for text, found in zip(texts, tokenise(texts, languages), strict=True)
             for term in found]
    assert len(pairs) > 300
    con = duckdb.connect()
    missed = con.execute(
        "SELECT text, term FROM (SELECT unnest(?::VARCHAR[]) AS text, "
        "unnest(?::VARCHAR[]) AS term) WHERE NOT text ILIKE '%' || term || '%'",
        [[p[0] for p in pairs], [p[1] for p in pairs]],
    ).fetchall()
    assert missed == []
