"""The comment classifier as a moderator relies on it: what each label means, how sentiment
turns with negation, which language a comment gets, and that a verdict never depends on the
batch a comment came in. (How good it is on labelled comments is the bench's job.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from desk.moderation.classify import CLASSIFIER_VERSION, Classification, Classifier
from desk.moderation.keywords import Lexicon, normalize
from desk.moderation.labels import LABELS
from desk.moderation.language import detect_languages
from desk.moderation.words import fold


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(["Glowskin"])


def verdict(classifier: Classifier, text: str | None, user_name: str | None = None):
    return classifier.classify(text, user_name)


def labels(classifier: Classifier, text: str, user_name: str | None = None) -> set[str]:
    return set(verdict(classifier, text, user_name).labels)


def band(sentiment: float) -> str:
    return "positive" if sentiment > 0.25 else "negative" if sentiment < -0.25 else "neutral"


# ---------------------------------------------------------------------------------------------
# The shape of a verdict


def test_the_version_names_the_lexicon_generation():
    assert CLASSIFIER_VERSION == "lexicon-3"


def test_a_verdict_has_a_language_a_bounded_sentiment_and_known_labels(classifier):
    texts = ["love it!!! 😍😍😍", "you are an idiot, this broke in a day, refund me", "ok",
             "🔥" * 40, "FREE iPhone 👉 bit.ly/win 💰💰 dm me", "これ最高すぎる", ""]
    for text in texts:
        result = verdict(classifier, text)
        assert isinstance(result, Classification)
        assert -1.0 <= result.sentiment <= 1.0
        assert set(result.labels) <= set(LABELS)
        assert list(result.labels) == [label for label in LABELS if label in result.labels]


def test_classify_many_returns_one_row_per_text_with_fixed_dtypes(classifier):
    texts = ["where can i buy this?", None, "", "muy caro 😡", "이거 얼마예요?"]
    frame = classifier.classify_many(texts, ["a", None, "b", None, "c"])
    assert list(frame.columns) == ["language", "sentiment", "labels"]
    assert len(frame) == len(texts)
    assert frame["sentiment"].dtype == np.float32
    assert frame["language"].map(type).eq(str).all()
    assert frame["labels"].map(type).eq(list).all()
    assert frame.loc[0, "labels"] == ["question", "purchase_intent"]


def test_user_names_must_match_the_texts(classifier):
    with pytest.raises(ValueError, match="one user name"):
        classifier.classify_many(["a", "b"], ["only one"])


@pytest.mark.parametrize("text", [None, "", "   ", "\n"])
def test_an_empty_comment_is_undetermined_neutral_and_unlabelled(classifier, text):
    result = verdict(classifier, text)
    assert result == Classification("und", 0.0, ())
    frame = classifier.classify_many([text])
    assert frame.loc[0, "language"] == "und"
    assert frame.loc[0, "sentiment"] == 0.0
    assert frame.loc[0, "labels"] == []


def test_a_text_gets_the_same_verdict_alone_and_in_any_batch(classifier):
    texts = ["not bad at all", "que lindo 😍", "kak ini ori ga?", "Wo kann man das kaufen",
             "gl0wskin giveaway, dm to claim", "最悪、一回で壊れた", "c'est combien ?", "ok"]
    alone = [verdict(classifier, text) for text in texts]
    batch = classifier.classify_many(texts * 2)
    for index, single in enumerate(alone):
        for row in (index, index + len(texts)):
            assert batch.loc[row, "language"] == single.language
            assert math.isclose(batch.loc[row, "sentiment"], single.sentiment, abs_tol=1e-6)
            assert tuple(batch.loc[row, "labels"]) == single.labels


# ---------------------------------------------------------------------------------------------
# Sentiment and negation


@pytest.mark.parametrize(("text", "expected"), [
    ("good", "positive"), ("not good", "negative"),
    ("bad", "negative"), ("not bad", "positive"),
    ("not bad at all", "positive"), ("nada mal", "positive"), ("nicht schlecht", "positive"),
    ("non è male", "positive"), ("pas mal du tout", "positive"), ("fena değil", "positive"),
    ("no me gustó", "negative"), ("não gostei", "negative"), ("not worth it", "negative"),
])
def test_a_negator_flips_the_sentiment_of_the_word_after_it(classifier, text, expected):
    assert band(verdict(classifier, text).sentiment) == expected


def test_negated_praise_complains_and_negated_complaint_praises(classifier):
    assert "complaint" in labels(classifier, "honestly not good")
    assert "praise" not in labels(classifier, "honestly not good")
    assert labels(classifier, "not bad for the price") == {"praise"}
    assert labels(classifier, "never disappointed with this brand") == {"praise"}


def test_negation_stops_at_a_comma(classifier):
    assert band(verdict(classifier, "not sure, but it's good").sentiment) == "positive"


def test_weak_praise_next_to_a_complaint_is_sarcasm(classifier):
    assert labels(classifier, "great, broke after one day") == {"complaint"}
    assert verdict(classifier, "great, broke after one day").sentiment < 0


# ---------------------------------------------------------------------------------------------
# Labels


def test_questions_with_and_without_a_question_mark(classifier):
    assert "question" in labels(classifier, "does it come in XL")
    assert "question" in labels(classifier, "wait is it waterproof")
    assert "question" in labels(classifier, "ini aman buat bumil ga kak")
    assert "question" not in labels(classifier, "what a beautiful color!")
    assert "question" not in labels(classifier, "que feo")
    assert "question" not in labels(classifier, "are you kidding me? 40 dollars")


def test_praise_inside_a_question_does_not_praise(classifier):
    assert labels(classifier, "is it good for oily skin?") == {"question"}


def test_buying_words_ask_only_when_they_ask_or_stand_almost_alone(classifier):
    assert labels(classifier, "price?") == {"question", "purchase_intent"}
    assert labels(classifier, "link pls") == {"purchase_intent"}
    assert "purchase_intent" not in labels(classifier, "the price of the shipping was fine for us")


def test_an_order_someone_complains_about_is_no_wish_to_buy(classifier):
    result = labels(classifier, "ordered a month ago and still nothing, no reply")
    assert "complaint" in result
    assert "purchase_intent" not in result


def test_an_insult_counts_only_aimed_at_a_person(classifier):
    assert "toxic" in labels(classifier, "you are so ugly")
    assert "toxic" not in labels(classifier, "the packaging is ugly")
    assert "complaint" in labels(classifier, "the packaging is ugly and cheap looking")
    assert "complaint" not in labels(classifier, "you are so ugly")


def test_insulting_the_product_complains_and_insulting_a_person_is_toxic(classifier):
    assert labels(classifier, "your product is trash and your support is useless") == {
        "complaint"}
    assert "toxic" in labels(classifier, "you are trash")
    abuse = verdict(classifier, "vc é muito burra kkkkk")
    assert "toxic" in abuse.labels
    assert band(abuse.sentiment) == "negative"  # laughing at someone is no cheer


def test_a_word_of_one_language_keeps_its_meaning_out_of_others(classifier):
    assert "toxic" not in labels(classifier, "suka banget sama produknya 😍")  # Polish "suka"
    assert band(verdict(classifier, "i hate this so much").sentiment) == "negative"
    assert "praise" not in labels(classifier, "is it good for gut health?")
    assert labels(classifier, "mi perro lo rompió en un día") == {"complaint"}


def test_negative_words_agree_with_a_negator_instead_of_flipping(classifier):
    assert labels(classifier, "no sirve para nada") == {"complaint"}
    assert labels(classifier, "el color no tiene nada que ver con la foto") == {"complaint"}
    assert labels(classifier, "não me decepcionou") == {"praise"}


def test_the_brands_own_reply_is_neither_praise_nor_spam():
    brand = Classifier(["Glowskin"])
    reply = "Thanks for the love 💕 more in our link in bio"
    assert brand.classify(reply, "glowskin").labels == ()
    assert brand.classify(reply, "GlowSkin").labels == ()
    assert "spam" in brand.classify(reply, "glowskin.help").labels
    assert brand.classify(reply, "maria_22").labels == ("spam",)


def test_swearing_at_nobody_is_not_toxic(classifier):
    assert labels(classifier, "this is fucking amazing") == {"praise"}
    assert "toxic" not in labels(classifier, "damn I missed the sale again")
    assert band(verdict(classifier, "damn I missed the sale again").sentiment) == "negative"
    assert "toxic" in labels(classifier, "fuck you")


@pytest.mark.parametrize("text", [
    "check my page: bit.ly/3xYz", "www.cheap-followers.example", "call +1 415 555 0199 now",
    "follow @glowup.daily for more", "link in bio 💰💰", "earn $500 a day from home, dm me",
])
def test_links_phone_numbers_and_pitches_are_spam(classifier, text):
    assert "spam" in labels(classifier, text)


@pytest.mark.parametrize("text", [
    "@jess we need this", "@amy check this out", "what time does the sale start?",
    "this meme is so me", "ok so i ordered it",
])
def test_a_friend_tag_or_a_word_that_looks_like_a_host_is_not_spam(classifier, text):
    assert "spam" not in labels(classifier, text)


def test_the_emoji_of_a_pitch_are_bait(classifier):
    result = verdict(classifier, "follow @glowup.daily for more tips 💕😍🔥")
    assert result.labels == ("spam",)
    assert band(result.sentiment) == "neutral"


def test_a_commenter_imitating_the_brand_is_spam(classifier):
    text = "Congrats, you are our lucky customer!"
    assert "spam" in labels(classifier, text, "gl0wskin_official")
    assert "spam" in labels(classifier, text, "glоwskin.support")  # a Cyrillic о
    assert "spam" not in labels(classifier, text, "Glowskin")
    assert "spam" not in labels(classifier, text, "glowskin_fan99")
    frame = classifier.classify_many([text, text], ["gl0wskin_official", "maria_22"])
    assert list(frame["labels"]) == [["spam"], []]


def test_a_flood_of_one_emoji_is_spam(classifier):
    assert labels(classifier, "😍" * 25) == {"praise", "spam"}
    assert "spam" not in labels(classifier, "😍😍😍")


# ---------------------------------------------------------------------------------------------
# Writing: scripts, emoji, accents, stretched letters


@pytest.mark.parametrize(("text", "label"), [
    ("これどこで買えますか", "purchase_intent"),
    ("一日で壊れた、返金してほしい", "complaint"),
    ("这个多少钱", "purchase_intent"),
    ("质量太差了，不推荐", "complaint"),
    ("ของยังไม่ได้รับเลยค่ะ", "complaint"),
    ("สวยมากกก", "praise"),
])
def test_keywords_match_anywhere_in_scripts_without_spaces(classifier, text, label):
    assert label in labels(classifier, text)


def test_emoji_carry_sentiment_and_praise(classifier):
    assert labels(classifier, "🔥🔥🔥") == {"praise"}
    assert band(verdict(classifier, "😂😂").sentiment) == "positive"
    assert band(verdict(classifier, "😡😡").sentiment) == "negative"
    assert labels(classifier, "love😍it") == {"praise"}  # no space around the emoji


@pytest.mark.parametrize(("accented", "plain"), [
    ("¿Cuánto cuesta?", "cuanto cuesta"), ("não chegou até hoje", "nao chegou ate hoje"),
    ("çok güzel", "cok guzel"), ("Größe passt nicht", "groesse passt nicht"),
    ("đẹp quá", "dep qua"),
])
def test_missing_accents_change_nothing(classifier, accented, plain):
    assert labels(classifier, accented) == labels(classifier, plain)
    assert labels(classifier, plain)


def test_stretched_letters_read_as_the_word(classifier):
    assert labels(classifier, "sooo goood") == labels(classifier, "so good") == {"praise"}
    assert labels(classifier, "lo necesitooo") == {"purchase_intent"}
    assert labels(classifier, "PLEASEEEE RESTOCK") == {"purchase_intent"}


# ---------------------------------------------------------------------------------------------
# Language


@pytest.mark.parametrize(("text", "language"), [
    ("is it waterproof?", "en"), ("quanto costa?", "it"), ("berapa harganya kak", "id"),
    ("c'est combien ?", "fr"), ("ist das vegan", "de"), ("onde compra", "pt"),
    ("precio?", "es"), ("salak mısın sen", "tr"), ("dep qua shop oi", "vi"),
    ("얼마예요?", "ko"), ("これ欲しい", "ja"), ("多少钱", "zh"), ("ราคาเท่าไหร่", "th"),
    ("بكم السعر", "ar"), ("Abzocke!!!", "de"), ("nul, arnaque", "fr"),
])
def test_a_short_comment_a_person_can_place_gets_its_language(classifier, text, language):
    assert verdict(classifier, text).language == language


@pytest.mark.parametrize("text", [
    "ok", "lol", "😂😂", "https://bit.ly/3xYz", "wow", "@maria_22", "123", "🔥🔥🔥 lol", "xd",
])
def test_a_comment_no_one_can_place_is_undetermined(classifier, text):
    assert verdict(classifier, text).language == "und"


def test_a_word_listed_for_one_language_counts_only_there(classifier):
    # Turkish "mi" asks a question; Spanish "mi" means "my".
    assert verdict(classifier, "güzel mi").language == "tr"
    assert "question" in labels(classifier, "güzel mi")
    spanish = verdict(classifier, "mi mamá lo usa y le encanta")
    assert spanish.language == "es"
    assert "question" not in spanish.labels
    assert "praise" in spanish.labels


def test_a_turkish_insult_is_not_an_english_word(classifier):
    assert "toxic" in labels(classifier, "sen tam bir malsın, mal")
    assert "toxic" not in labels(classifier, "I love it, got it yesterday")
    assert "toxic" not in labels(classifier, "mal producto, no sirve")


def test_language_detection_takes_hints_per_text():
    assert detect_languages(["blorp flimp"], [{"de": 3.0}]) == ["de"]
    assert detect_languages(["blorp flimp"]) != ["de"]
    with pytest.raises(ValueError, match="one hint"):
        detect_languages(["a", "b"], [{}])


# ---------------------------------------------------------------------------------------------
# The lexicon


def test_a_keyword_may_not_be_listed_both_for_every_language_and_for_one():
    with pytest.raises(ValueError, match="listed both"):
        Lexicon({"tr": {"toxic": {"words": ["mal"], "only_in_language": ["mal"]}}})


def test_an_unknown_tag_is_refused():
    with pytest.raises(ValueError, match="unknown tag"):
        Lexicon({"en": {"compliment": {"words": ["nice"]}}})


def test_keywords_match_whole_words_and_stems_with_an_ellipsis():
    lexicon = Lexicon({"en": {"complaint": {"words": ["refund...", "broke"]},
                              "praise": {"words": ["...tastic"]}}})

    def found(text: str) -> list[str]:
        normalized = normalize(fold(text))
        return [normalized[hit.start:hit.end] for hit in lexicon.find(normalized)]

    assert found("REFUNDED twice!") == ["refund"]  # the stem, at the word's start
    assert found("it broke.") == ["broke"]
    assert found("my broker called") == []
    assert found("fantastic") == ["tastic"]
    assert found("tastic") == ["tastic"]
    assert found("fantastically") == []
