"""Models read whatever shape TikTok sends without failing."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_client.models import (
    Ad,
    Advertiser,
    Comment,
    Page,
    PageInfo,
    ReplyResult,
    TokenGrant,
    parse_time,
)

JAN_14 = datetime(2021, 1, 14, 7, 4, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2021-01-14 07:04:16 +0000 UTC",
        "2021-01-14 07:04:16",
        "2021-01-14T07:04:16Z",
        "2021-01-14T07:04:16+00:00",
        "2021-01-14T09:04:16+02:00",
        "2021-01-14 09:04:16 +0200",
        1610607856,
        1610607856.0,
        "1610607856",
        1610607856000,
        "1610607856000",
        datetime(2021, 1, 14, 7, 4, 16),
        datetime(2021, 1, 14, 8, 4, 16, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_every_time_format_tiktok_uses_reads_as_the_same_utc_instant(value):
    parsed = parse_time(value)

    assert parsed == JAN_14
    assert parsed.tzinfo == UTC


def test_fractional_epoch_seconds_keep_their_fraction():
    assert parse_time("1610607856.5") == JAN_14 + timedelta(milliseconds=500)


def test_a_date_alone_is_midnight_utc():
    assert parse_time("2021-01-14") == datetime(2021, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "yesterday", "2021-13-45 99:00:00", True, [], {}, float("nan")]
)
def test_empty_or_unreadable_times_are_none(value):
    assert parse_time(value) is None


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans()))
def test_parse_time_never_raises(value):
    result = parse_time(value)

    assert result is None or result.tzinfo == UTC


COMMENT = {
    "comment_id": "7400000000000000001",
    "app": "TIKTOK",
    "content": "Love these!",
    "likes": 3,
    "replies": 0,
    "comment_type": "COMMENT",
    "original_comment_id": "",
    "comment_status": "PUBLIC",
    "hit_blockedword": False,
    "ad_text": "Spring promo",
    "create_time": "2025-03-02 08:15:00 +0000 UTC",
    "campaign_id": "1800000000000001",
    "campaign_name": "Spring",
    "adgroup_id": "1800000000000101",
    "adgroup_name": "Broad",
    "ad_id": "1800000000001001",
    "ad_name": "Spring promo",
    "tiktok_item_id": "7300000000000000099",
    "identity_id": "id-xyz",
    "identity_type": "TT_USER",
    "is_pinned": False,
    "can_delete": False,
    "is_auth_ttba": True,
    "is_auth_comment_manage_scope": True,
    "video_play_url": "https://v.example/1.mp4",
    "video_cover_url": "https://v.example/1.jpg",
    "user_avatar_url": "https://a.example/u.jpg",
    "user_name": "sneakerfan",
    "user_id": "6123456789123456789",
}


def test_a_comment_reads_every_field_of_comment_list():
    comment = Comment.from_api(COMMENT)

    record = comment.to_record()
    for key, value in COMMENT.items():
        if key in ("create_time", "original_comment_id"):
            continue
        assert record[key] == value, key
    assert comment.create_time == datetime(2025, 3, 2, 8, 15, tzinfo=UTC)
    assert comment.original_comment_id is None


@pytest.mark.parametrize("empty", ["", "0", 0, None])
def test_a_top_level_comment_has_no_original_comment(empty):
    assert Comment.from_api({**COMMENT, "original_comment_id": empty}).original_comment_id is None


def test_a_reply_keeps_its_original_comment_id():
    reply = Comment.from_api({**COMMENT, "comment_type": "REPLY", "original_comment_id": "74001"})

    assert reply.original_comment_id == "74001"


def test_v1_2_field_names_are_understood():
    old = {
        "comment_id": 7400000000000000001,
        "item_id": 7300000000000000099,
        "is_top": True,
        "text": "old text field",
        "adgroup_id": 1800000000000101,
    }

    comment = Comment.from_api(old)

    assert comment.comment_id == "7400000000000000001"
    assert comment.tiktok_item_id == "7300000000000000099"
    assert comment.is_pinned is True
    assert comment.content == "old text field"
    assert comment.adgroup_id == "1800000000000101"


def test_current_names_win_over_v1_2_names():
    comment = Comment.from_api(
        {"content": "new", "text": "old", "is_pinned": False, "is_top": True}
    )

    assert comment.content == "new"
    assert comment.is_pinned is False


def test_unknown_enum_values_are_kept_as_sent():
    comment = Comment.from_api(
        {**COMMENT, "comment_status": "UNDER_REVIEW", "identity_type": "BC_AUTH_TT"}
    )

    assert comment.comment_status == "UNDER_REVIEW"
    assert comment.identity_type == "BC_AUTH_TT"


def test_scalars_of_the_wrong_type_are_coerced_where_obvious():
    comment = Comment.from_api(
        {"likes": "3", "replies": 2.0, "hit_blockedword": "true", "can_delete": 0, "user_id": 61}
    )

    assert comment.likes == 3
    assert comment.replies == 2
    assert comment.hit_blockedword is True
    assert comment.can_delete is False
    assert comment.user_id == "61"


def test_values_that_cannot_be_coerced_become_none():
    comment = Comment.from_api({"likes": "many", "hit_blockedword": "maybe", "content": {"x": 1}})

    assert comment.likes is None
    assert comment.hit_blockedword is None
    assert comment.content is None


def test_missing_and_unknown_fields_are_tolerated():
    comment = Comment.from_api({"comment_id": "1", "brand_new_field": [1, 2]})

    assert comment.comment_id == "1"
    assert comment.content is None
    assert comment.likes is None
    assert "brand_new_field" not in comment.to_record()


def test_a_reference_comment_flattens_the_replied_user():
    comment = Comment.from_api(
        {**COMMENT, "reply_user_info": {"user_name": "orig", "user_avatar_url": "https://a/o.jpg"}}
    )

    assert comment.reply_user_name == "orig"
    assert comment.reply_user_avatar_url == "https://a/o.jpg"
    assert Comment.from_api({**COMMENT, "reply_user_info": None}).reply_user_name is None


def test_an_advertiser_reads_name_from_advertiser_info():
    advertiser = Advertiser.from_api(
        {
            "advertiser_id": "7000000000000000001",
            "name": "Acme Shoes",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "company": "Acme GmbH",
            "status": "STATUS_ENABLE",
            "country": "DE",
            "role": "ROLE_ADVERTISER",
        }
    )

    assert advertiser.to_record() == {
        "advertiser_id": "7000000000000000001",
        "name": "Acme Shoes",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "company": "Acme GmbH",
        "status": "STATUS_ENABLE",
        "country": "DE",
        "role": "ROLE_ADVERTISER",
    }


def test_an_advertiser_reads_advertiser_name_from_the_oauth_listing():
    advertiser = Advertiser.from_api({"advertiser_id": 7000000000000000002, "advertiser_name": "B"})

    assert (advertiser.advertiser_id, advertiser.name) == ("7000000000000000002", "B")


def test_an_ad_reads_ids_as_strings_and_times_as_utc():
    ad = Ad.from_api(
        {
            "advertiser_id": 7000000000000000001,
            "campaign_id": "1800000000000001",
            "adgroup_id": "1800000000000101",
            "ad_id": "1800000000001001",
            "ad_name": "Spring promo",
            "video_id": "v10033g50000abc",
            "tiktok_item_id": "7300000000000000099",
            "operation_status": "ENABLE",
            "secondary_status": "AD_STATUS_DELIVERY_OK",
            "identity_type": "CUSTOMIZED_USER",
            "identity_id": "idn-1",
            "create_time": "2025-03-01 10:00:00",
            "modify_time": "2025-03-02T11:00:00Z",
        }
    )

    assert ad.advertiser_id == "7000000000000000001"
    assert ad.ad_id == "1800000000001001"
    assert ad.create_time == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert ad.modify_time == datetime(2025, 3, 2, 11, tzinfo=UTC)
    assert ad.operation_status == "ENABLE"
    assert ad.to_record()["tiktok_item_id"] == "7300000000000000099"


def test_page_info_coerces_numbers():
    info = PageInfo.from_api(
        {"page": "2", "page_size": 100, "total_number": "250", "total_page": 3}
    )

    assert info == PageInfo(page=2, page_size=100, total_number=250, total_page=3)


def test_a_page_skips_entries_that_are_not_objects():
    page = Page.from_api({"list": [{"ad_id": "1"}, None, "junk", {"ad_id": "2"}]}, Ad.from_api)

    assert [ad.ad_id for ad in page] == ["1", "2"]
    assert len(page) == 2
    assert page.page_info == PageInfo()


def test_a_page_without_items_or_data_is_empty():
    assert Page.from_api(None, Ad.from_api).items == []
    assert Page.from_api({"list": None}, Ad.from_api).items == []


def test_a_page_record_holds_item_records_and_paging():
    page = Page.from_api(
        {"comments": [{"comment_id": "1"}], "page_info": {"total_page": 1}},
        Comment.from_api,
        "comments",
    )

    record = page.to_record()

    assert record["items"][0]["comment_id"] == "1"
    assert record["page_info"]["total_page"] == 1


REPLY = {
    "comment_id": "7400000000000000002",
    "tiktok_item_id": "7300000000000000099",
    "text": "Thanks!",
    "create_time": "2025-03-02 09:00:00",
    "reply_to_comment_id": "7400000000000000001",
}


@pytest.mark.parametrize("data", [REPLY, {"comment": REPLY}], ids=["flat", "nested"])
def test_a_reply_result_reads_flat_and_nested_shapes(data):
    result = ReplyResult.from_api(data)

    assert result == ReplyResult(
        comment_id="7400000000000000002",
        tiktok_item_id="7300000000000000099",
        text="Thanks!",
        create_time=datetime(2025, 3, 2, 9, tzinfo=UTC),
        reply_to_comment_id="7400000000000000001",
    )


def test_an_empty_reply_result_is_all_none_rather_than_an_error():
    assert ReplyResult.from_api({}) == ReplyResult(comment_id=None)
    assert ReplyResult.from_api(None) == ReplyResult(comment_id=None)


def test_a_token_grant_reads_ids_as_strings_and_scopes_as_ints():
    grant = TokenGrant.from_api(
        {
            "access_token": "a1b2c3d4e5",
            "advertiser_ids": [7000000000000000001, "7002"],
            "scope": [4, "220"],
        }
    )

    assert grant.access_token == "a1b2c3d4e5"
    assert grant.advertiser_ids == ["7000000000000000001", "7002"]
    assert grant.scope == [4, 220]


def test_a_token_grant_never_shows_its_token():
    grant = TokenGrant.from_api({"access_token": "a1b2c3d4e5", "advertiser_ids": ["1"]})

    assert "a1b2c3d4e5" not in repr(grant)
    assert "a1b2c3d4e5" not in str(grant)
    assert "advertiser_ids=['1']" in repr(grant)


def test_to_record_returns_a_copy_of_list_fields():
    grant = TokenGrant.from_api({"access_token": "t", "advertiser_ids": ["1"]})

    record = grant.to_record()
    record["advertiser_ids"].append("2")

    assert grant.advertiser_ids == ["1"]
    assert set(record) == {"access_token", "advertiser_ids", "scope"}


def test_models_are_immutable():
    comment = Comment.from_api(COMMENT)

    with pytest.raises(AttributeError):
        comment.content = "edited"  # type: ignore[misc]


def test_a_reference_comment_reads_reply_user_info_as_an_array_too():
    listed = Comment.from_api(
        {**COMMENT, "reply_user_info": [{"user_name": "orig", "user_avatar_url": "https://a/o"}]}
    )

    assert (listed.reply_user_name, listed.reply_user_avatar_url) == ("orig", "https://a/o")
    assert Comment.from_api({**COMMENT, "reply_user_info": []}).reply_user_name is None
    assert Comment.from_api({**COMMENT, "reply_user_info": ["orig"]}).reply_user_name is None


def test_an_ad_from_ad_get_is_not_smart_plus_and_lists_its_one_post():
    ad = Ad.from_api({"advertiser_id": "1", "ad_id": "2", "tiktok_item_id": 73})

    assert ad.smart_plus is False
    assert ad.tiktok_item_ids == ("73",)
    assert Ad.from_api({"advertiser_id": "1", "smart_plus": True}).smart_plus is False
    assert Ad.from_api({}).tiktok_item_ids == ()


def test_a_smart_plus_ad_reads_the_documented_nested_creatives():
    ad = Ad.from_smart_plus(
        {
            "advertiser_id": "1",
            "smart_plus_ad_id": 1850472306618481,
            "adgroup_id": "21",
            "ad_configuration": {"identity_type": "CUSTOMIZED_USER", "identity_id": "idn-c"},
            "creative_list": [
                {"creative_info": {"ad_format": "CAROUSEL_ADS", "tiktok_item_id": "71",
                                   "identity_type": "TT_USER", "identity_id": "idn-t"}},
                {"creative_info": {"tiktok_item_id": "72",
                                   "video_info": {"video_id": "v2"}}},
                {"creative_info": {"tiktok_item_id": "71"}},
            ],
            "create_time": "2026-01-01 00:00:01",
        }
    )

    assert ad.smart_plus is True
    assert ad.ad_id == "1850472306618481"
    assert (ad.identity_type, ad.identity_id) == ("CUSTOMIZED_USER", "idn-c")  # the ad's own
    assert ad.tiktok_item_ids == ("71", "72")
    assert (ad.tiktok_item_id, ad.video_id, ad.ad_format) == ("71", "v2", "CAROUSEL_ADS")
    assert ad.create_time == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_a_smart_plus_ad_reads_flat_creatives_and_top_level_fields():
    ad = Ad.from_smart_plus(
        {
            "advertiser_id": "1",
            "ad_id": "9",
            "ad_text": "Top text",
            "call_to_action": [{"call_to_action": "LEARN_MORE"}],
            "creative_list": [
                {"video_id": "v1", "tiktok_item_id": "81", "identity_type": "BC_SELF_TT",
                 "identity_id": "idn-s"},
                "not an object",
            ],
            "ad_text_list": ["ignored, the ad has its own"],
        }
    )

    assert ad.ad_id == "9"
    assert (ad.video_id, ad.tiktok_item_id) == ("v1", "81")
    assert (ad.identity_type, ad.identity_id) == ("BC_SELF_TT", "idn-s")
    assert (ad.ad_text, ad.call_to_action) == ("Top text", "LEARN_MORE")


def test_a_smart_plus_ad_without_details_is_all_none_rather_than_an_error():
    ad = Ad.from_smart_plus({"creative_list": "nope", "ad_configuration": [], "ad_text_list": 3})

    assert ad.smart_plus is True
    assert ad.ad_id is None and ad.identity_id is None and ad.ad_text is None
    assert ad.tiktok_item_ids == ()
    assert Ad.from_smart_plus(None).smart_plus is True

