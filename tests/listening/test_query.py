"""The boolean listening-query language and the query filter."""

from __future__ import annotations

import pytest

from brandcrew.errors import UserError
from brandcrew.services.listening.query import (
    And,
    Not,
    Or,
    Phrase,
    QueryFilter,
    QuerySyntaxError,
    Term,
    parse_query,
)


def matches(query: str, text: str) -> bool:
    return QueryFilter(query=query).matches_text(text)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    assert parse_query("a OR b AND NOT c") == Or((Term("a"), And((Term("b"), Not(Term("c"))))))
    assert matches("a OR b AND NOT c", "only a here")
    assert matches("a OR b AND NOT c", "b alone")
    assert not matches("a OR b AND NOT c", "b with c")


def test_parentheses_override_precedence() -> None:
    assert parse_query("(a OR b) AND c") == And((Or((Term("a"), Term("b"))), Term("c")))
    assert not matches("(a OR b) c", "a without the other")
    assert matches("(a OR b) c", "b and c together")


def test_juxtaposition_means_and_and_minus_means_not() -> None:
    assert parse_query("acme shoes -fake") == And((Term("acme"), Term("shoes"), Not(Term("fake"))))
    assert matches("acme shoes -fake", "Acme SHOES are here")
    assert not matches("acme shoes -fake", "acme shoes are fake")


def test_quoted_phrase_needs_the_words_in_a_row() -> None:
    assert parse_query('"acme corp"') == Phrase(("acme", "corp"))
    assert matches('"acme corp" rocks', "I think Acme Corp rocks")
    assert not matches('"acme corp"', "corp of acme")
    assert matches('NOT "fake news"', "news that is fake")
    assert not matches('NOT "fake news"', "this is fake news!")


def test_hashtags_handles_prefixes_and_possessives() -> None:
    assert matches("acme", "loving #acme today")  # a bare word also matches its hashtag
    assert matches("acme", "thanks @acme")
    assert matches("acme", "acme's support is slow")
    assert not matches("#acme", "acme without the tag")
    assert matches("#acme", "with the #ACME tag")
    assert matches("sneak*", "new sneakers")
    assert not matches("sneak*", "no shoes")
    assert matches("e-commerce", "the e commerce boom")


def test_operators_are_case_sensitive_keywords() -> None:
    # lower-case `or` is an ordinary word, so this is "cats AND or AND dogs"
    assert not matches("cats or dogs", "cats only")
    assert matches("cats OR dogs", "cats only")


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "empty query"),
        ("   ", 3, "empty query"),
        ("acme AND", 5, "AND needs a term on its right"),
        ("OR acme", 0, "OR needs a term on its left"),
        ("acme OR OR shoes", 5, "OR needs a term on its right"),
        ("(acme OR shoes", 0, "unbalanced '('"),
        ("acme OR shoes)", 13, "unbalanced ')'"),
        ("acme ()", 5, "empty parentheses"),
        ('acme "corp', 5, "unterminated quoted phrase"),
        ('acme ""', 5, "empty quoted phrase"),
        ("acme NOT", 5, "NOT needs a term on its right"),
        ("ac*me", 2, "'*' is only allowed at the end"),
        ("acme - shoes", 5, "invalid term '-'"),
    ],
)
def test_malformed_queries_raise_with_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    err = info.value
    assert err.position == position
    assert fragment in err.reason
    assert f"at position {position}" in str(err)
    assert str(err).splitlines()[-1] == "  " + " " * position + "^"
    assert isinstance(err, UserError)


def test_filter_fails_when_saved_not_when_run() -> None:
    with pytest.raises(QuerySyntaxError):
        QueryFilter(query="(broken")
    with pytest.raises(QuerySyntaxError):
        QueryFilter(excluded_terms=['"unterminated'])


def test_filter_combines_keywords_exclusions_platforms_languages_and_sentiment() -> None:
    f = QueryFilter(
        query="shoes OR boots",
        keywords=["acme", "acme corp"],
        excluded_terms=["giveaway", "free stuff"],
        platforms=["x", "threads"],
        languages=["en"],
        sentiment="negative",
        detect_language=lambda text: "de" if "schuhe" in text else "en",
    )
    good = "acme shoes broke after a day"
    assert f.matches(good, platform="x", language="en", sentiment="negative")
    assert f.matches(good, platform="X", sentiment="negative")  # language detected
    assert not f.matches(good, platform="linkedin", language="en", sentiment="negative")
    assert not f.matches(good, language="en", sentiment="negative")  # platform required
    assert not f.matches(good, platform="x", language="fr", sentiment="negative")
    assert not f.matches(good, platform="x", language="en", sentiment="positive")
    assert not f.matches("acme shoes giveaway", platform="x", language="en", sentiment="negative")
    assert not f.matches("acme shoes, free stuff!", platform="x", language="en", sentiment="negative")
    assert not f.matches("nike shoes", platform="x", language="en", sentiment="negative")  # no keyword
    assert not f.matches("acme schuhe shoes", platform="x", sentiment="negative")  # detected as German
    assert f.needs_sentiment and f.accepts_sentiment("negative") and not f.accepts_sentiment(None)


def test_empty_filter_matches_everything() -> None:
    f = QueryFilter()
    assert f.matches("anything at all")
    assert f.filter(["a", "b"]) == ["a", "b"]
    assert str(parse_query('a OR "b c"')) == '(a OR "b c")'
