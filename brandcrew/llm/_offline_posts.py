"""Offline copywriting: posts from templates, replies to comments and crisis holding statements.

Every text is composed from the brief (the user's request), the brand profile and tool facts,
then fitted to the platform's limit by dropping optional parts before trimming at a word boundary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from brandcrew.llm._offline_context import BrandProfile
from brandcrew.llm._offline_sentiment import NEGATIVE, POSITIVE, classify, score_sentiment
from brandcrew.llm._offline_text import (
    MAX_HASHTAGS,
    PLATFORM_WORDS,
    STOP_WORDS,
    TEXT_LIMITS,
    URL_RE,
    camel_hashtag,
    capitalize,
    contains_banned,
    find_emoji,
    find_hashtags,
    find_mentions,
    find_quoted,
    find_urls,
    keywords,
    measure_for,
    pick,
    scrub_words,
    sentences,
    split_identifier,
    strip_emoji,
    trim_to,
    word_set,
)

# Words that only say "write me a post"; stripped from the front of a brief to leave its topic.
_INSTRUCTION_WORDS = word_set(
    "please can could would you write draft create compose craft make generate prepare produce "
    "give need me us a an the some one two three four five few couple of short quick catchy "
    "engaging brief punchy professional playful social media post posts tweet tweets caption "
    "captions thread threads copy content update announcement variant variants version versions "
    "for and or on to about each platform platforms both all i we want like also"
)
_INSTRUCTION_START_RE = re.compile(
    r"^\s*(?:please\s+)?(?:can you|could you|would you|i need|we need|i want|we want|write|draft|create|"
    r"compose|craft|make|generate|prepare|produce|give me|come up with)\b",
    re.I,
)
_MARKER_RE = re.compile(
    r"\b(?:about|regarding|on the topic of|announcing|promoting|celebrating|introducing|highlighting|"
    r"featuring|launching|to announce|to promote|to celebrate)\s+(.+)",
    re.I | re.S,
)
_PLATFORM_TAIL_RE = re.compile(
    r"\s*\b(?:for|on|across|to)\s+(?:(?:X|twitter|linkedin|instagram|insta|ig|facebook|fb|threads|tiktok|"
    r"youtube|pinterest|reddit)\b(?:\s*(?:,|and|&|\+)\s*)?)+\s*$",
    re.I,
)
_STYLE_TAIL_RE = re.compile(
    r"\s*\b(?:in our (?:brand )?voice|with (?:some )?(?:hashtags|emoji|emojis|a link|a cta))\b.*$", re.I
)

_ANGLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (angle, re.compile(pattern, re.I))
    for angle, pattern in (
        ("promo", r"\b(?:sale|\d+\s?% off|discount|deal|offer|coupon|promo|black friday|free shipping)"),
        (
            "event",
            r"\b(?:event|webinar|livestream|join us|meetup|conference|workshop|save the date|register)",
        ),
        ("celebrate", r"\b(?:thank|milestone|anniversary|celebrat|award|congrat|\d+k followers)"),
        ("hiring", r"\b(?:hiring|join our team|open role|job opening|careers?)\b"),
        ("launch", r"\b(?:launch|introduc|announc|unveil|release|now available|coming soon|new)"),
        ("educate", r"\b(?:tips?|how to|guide|ways to|learn|explain|checklist|mistakes|lessons|why)\b"),
    )
)

_OPENERS: dict[str, tuple[str, ...]] = {
    "promo": ("{Headline} is on.", "Good news for your wishlist: {headline}.", "Don't miss {headline}."),
    "launch": ("Introducing {headline}.", "It's here: {headline}.", "Say hello to {headline}."),
    "event": ("Save the date: {headline}.", "You're invited: {headline}.", "Join us for {headline}."),
    "celebrate": ("Thank you! {Headline}.", "A moment to celebrate: {headline}.", "We did it: {headline}."),
    "educate": (
        "Quick tip: {headline}.",
        "Worth knowing: {headline}.",
        "Here's what we've learned: {headline}.",
    ),
    "hiring": ("We're hiring: {headline}.", "Join the {brand_or_team}: {headline}."),
    "general": (
        "Spotlight on {headline}.",
        "Here's what's new at {brand_or_us}: {headline}.",
        "Let's talk about {headline}.",
        "We've been thinking about {headline}.",
    ),
}
_HOOKS = {
    "playful": ("Okay, this is exciting.", "Psst.", "Guess what?"),
    "friendly": ("Hi friends!", "Good news!", "Hey there!"),
    "bold": ("Big moment.", "This is it.", "Heads up."),
    "professional": ("Update:", "Announcement:", "News:"),
}
_DEFAULT_CTA = {
    "promo": "Shop now",
    "launch": "Learn more",
    "event": "Save your spot",
    "celebrate": "",
    "educate": "Read more",
    "hiring": "Apply now",
    "general": "Learn more",
}
_ANGLE_EMOJI = {
    "promo": "🛍️",
    "launch": "🚀",
    "event": "📅",
    "celebrate": "🎉",
    "educate": "💡",
    "hiring": "🙌",
    "general": "✨",
}
_CLOSERS = {
    "linkedin": (
        "What do you think? Share your take in the comments.",
        "We'd love to hear your perspective.",
    ),
    "facebook": ("Tell us what you think in the comments!", "Share this with someone who'd love it."),
    "instagram": ("Tag someone who needs to see this.", "Save this post for later."),
    "youtube": ("Subscribe for more from {brand_or_us}.",),
    "reddit": ("Happy to answer questions in the comments.", "Curious what this community thinks."),
}
_HASHTAG_COUNTS = {
    "x": 2,
    "threads": 1,
    "linkedin": 3,
    "instagram": 8,
    "facebook": 2,
    "tiktok": 4,
    "pinterest": 3,
    "youtube": 3,
    "reddit": 0,
}
_COMPACT = frozenset({"x", "threads", "pinterest", "tiktok"})
_NO_LINK_PLATFORMS = frozenset({"instagram", "tiktok"})  # captions there have no clickable links
_EMOJI_BY_DEFAULT = frozenset({"instagram", "tiktok", "threads"})
_LOWERABLE_FIRST_WORDS = word_set("our the a an new this my your their its")


@dataclass(frozen=True, kw_only=True)
class Brief:
    """What a writing request asks for, pulled apart."""

    topic: str
    headline: str
    details: tuple[str, ...]
    angle: str
    link: str
    hashtags: tuple[str, ...]
    emoji: tuple[str, ...]
    mentions: tuple[str, ...]


def clean_topic(text: str) -> str:
    """`text` without URLs, hashtags, emoji, style asides and a trailing `for X and LinkedIn`."""
    # A link goes with the words that point at it ("available at <url>"), or "at" dangles.
    text = re.sub(
        r"\s*(?:\b(?:at|on|via|see|visit|here|from|link)\b:?\s*)?(?:" + URL_RE.pattern + ")",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(r"(?<![\w&/])#\w+", "", strip_emoji(text))
    text = _STYLE_TAIL_RE.sub("", text)
    previous = None
    while previous != text:
        previous = text
        text = _PLATFORM_TAIL_RE.sub("", text).strip(" \t\n.,;:!-–—")
    return " ".join(text.split())


def _strip_instruction(sentence: str) -> str:
    marker = _MARKER_RE.search(sentence)
    if marker:
        return marker.group(1)
    tokens = sentence.split()
    while tokens:
        word = tokens[0].lower().strip(",:;!.'\"")
        if word in _INSTRUCTION_WORDS or word in PLATFORM_WORDS or word.isdigit() or tokens[0] == "X":
            tokens.pop(0)
        else:
            break
    return " ".join(tokens)


def embed_phrase(phrase: str) -> str:
    """`phrase` ready to sit mid-sentence: a leading common word is lower-cased."""
    # "Our spring sale" reads right mid-sentence as "our spring sale"; proper nouns stay capitalised.
    first = phrase.split(" ", 1)[0]
    return phrase[:1].lower() + phrase[1:] if first.lower() in _LOWERABLE_FIRST_WORDS else phrase


def read_brief(text: str, brand: BrandProfile) -> Brief:
    """Split a writing request into topic, headline, details, angle, link, hashtags and emoji."""
    topic = ""
    details: list[str] = []
    plain: list[str] = []
    for sentence in sentences(URL_RE.sub(lambda m: m.group(0).replace(".", "\x00"), text)):
        sentence = sentence.replace("\x00", ".")
        if _INSTRUCTION_START_RE.match(sentence):
            remainder = clean_topic(_strip_instruction(sentence))
            if not topic and keywords(remainder):
                topic = remainder
        else:
            cleaned = clean_topic(sentence)
            if cleaned and keywords(cleaned):
                plain.append(cleaned)
    if not topic and plain:
        topic = plain.pop(0)
    details.extend(plain)
    if not topic:
        topic = brand.products[0] if brand.products else (brand.name or "what we're working on")
    topic = embed_phrase(topic)
    headline, rest = _split_headline(topic)
    if rest:
        details.insert(0, rest)
    angle = next((name for name, pattern in _ANGLES if pattern.search(text)), "general")
    links = find_urls(text)
    return Brief(
        topic=topic,
        headline=headline,
        details=tuple(capitalize(d.rstrip(".!?")) + "." for d in details if d),
        angle=angle,
        link=links[0] if links else brand.website,
        hashtags=tuple(find_hashtags(text)),
        emoji=tuple(find_emoji(text)),
        mentions=tuple(find_mentions(text)),
    )


def _split_headline(topic: str) -> tuple[str, str]:
    # The headline is the topic up to its first clause break; the rest becomes a detail sentence.
    match = re.search(r"\s*(?::|;|,|\s[-–—]\s|\(|\bwhich\b|\bwith\b|\buntil\b)\s*", topic)
    if match and len(topic[: match.start()].split()) >= 2:
        head, rest = topic[: match.start()], topic[match.end() :]
        if match.group(0).strip() in ("with", "until"):
            rest = match.group(0).strip() + " " + rest
        return head.strip(), rest.strip(" )")
    words = topic.split()
    if len(words) > 14:
        return " ".join(words[:12]), " ".join(words[12:])
    return topic, ""


_FACT_FIELDS = word_set(
    "description summary tagline highlight benefit benefits feature features key_message fact facts usp"
)


def copy_facts(data: Any, *, tool_name: str = "") -> tuple[list[str], list[str]]:
    """Post-ready sentences and hashtags found in a tool result."""
    facts: list[str] = []
    tags: list[str] = []
    trendy = "trend" in tool_name.lower()

    def walk(value: Any, key: str, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k).lower(), depth + 1)
        elif isinstance(value, list):
            for item in value[:5]:
                walk(item, key, depth + 1)
        elif isinstance(value, str):
            if key in ("hashtag", "hashtags", "tag", "tags"):
                tags.append(value if value.startswith("#") else camel_hashtag(value))
            elif trendy and key in ("topic", "name", "keyword", "term"):
                tags.append(camel_hashtag(value))
            elif key in _FACT_FIELDS and 3 <= len(value) <= 220:
                facts.append(capitalize(value.rstrip(".")) + ".")

    walk(data, "", 0)
    return list(dict.fromkeys(facts)), [t for t in dict.fromkeys(tags) if t]


def _tone_kind(tone: str) -> str:
    low = tone.lower()
    for kind, markers in (
        ("playful", ("playful", "fun", "witty", "cheeky", "humor", "humour", "casual", "quirky")),
        ("bold", ("bold", "confident", "edgy", "energetic")),
        ("professional", ("professional", "formal", "authoritative", "corporate", "expert")),
        ("friendly", ("friendly", "warm", "approachable", "conversational", "kind")),
    ):
        if any(m in low for m in markers):
            return kind
    return ""


def emoji_allowed(brand: BrandProfile, platform: str) -> bool:
    """Whether a post for `platform` may carry emoji under the brand's habit."""
    return brand.emoji if brand.emoji is not None else platform in _EMOJI_BY_DEFAULT


def pick_hashtags(
    brief: Brief, brand: BrandProfile, platform: str, *, extra: Sequence[str] = (), count: int | None = None
) -> list[str]:
    """Hashtags for a post: the brief's, the brand's, tool-suggested, then ones made from the topic."""
    wanted = _HASHTAG_COUNTS.get(platform, 2) if count is None else count
    if wanted <= 0:
        return []
    pool = [*brief.hashtags, *brand.hashtags, *extra]
    # Tags made from the topic: the whole headline when short, else its longer content words.
    words = brief.headline.split()
    while words and words[0].lower() in _LOWERABLE_FIRST_WORDS:
        words.pop(0)  # "#SpringSale", not "#OurSpringSale"
    made = [camel_hashtag(" ".join(words))] if 0 < len(words) <= 3 else []
    made += [
        camel_hashtag(w)
        for w in (t.strip(".,:;!?'\"()") for t in brief.headline.split())
        if w.isalpha() and len(w) >= 6 and w.lower() not in STOP_WORDS
    ]
    pool.extend([t for t in made if 3 <= len(t) <= 24][:2])
    if brand.name:
        pool.append(camel_hashtag(brand.name))
    out: list[str] = []
    seen: set[str] = set()
    for tag in pool:
        if not tag or tag.lower() in seen:
            continue
        if contains_banned(split_identifier(tag.lstrip("#")), brand.banned) or contains_banned(
            tag, brand.banned
        ):
            continue
        seen.add(tag.lower())
        out.append(tag)
    return out[: min(wanted, MAX_HASHTAGS.get(platform, 30))]


@dataclass(kw_only=True)
class _Draft:
    body: list[str]
    extra: list[str] = field(default_factory=list)
    cta: str = ""
    tags: list[str] = field(default_factory=list)
    compact: bool = True

    def render(self) -> str:
        body = " ".join(s for s in self.body if s)
        blocks = [body, *self.extra] if not self.compact else [body]
        if self.cta:
            if self.compact:
                blocks[0] = f"{blocks[0]} {self.cta}".strip()
            else:
                blocks.append(self.cta)
        if self.tags:
            blocks.append(" ".join(self.tags))
        return "\n\n".join(b for b in blocks if b).strip()


def _fit(draft: _Draft, platform: str, limit: int) -> str:
    """Drop optional parts, then trim at a word boundary, until the post fits `limit`."""
    measure = measure_for(platform)
    max_tags = MAX_HASHTAGS.get(platform, 30)
    # Sentences past the point where their own lengths add up beyond the limit can never fit:
    # drop them in one pass so huge briefs stay linear.
    kept: list[str] = []
    total = 0
    for sentence in draft.body:
        total += measure(sentence) + 1
        if kept and total > limit:
            break
        kept.append(sentence)
    draft.body = kept
    while draft.tags and len(find_hashtags(draft.render())) > max_tags:
        draft.tags.pop()
    while measure(draft.render()) > limit:
        if draft.extra:
            draft.extra.pop()
        elif len(draft.tags) > 1:
            draft.tags.pop()
        elif len(draft.body) > 1:
            draft.body.pop()
        elif draft.tags:
            draft.tags.pop()
        else:
            break
    text = draft.render()
    if measure(text) <= limit:
        return text
    # Only the opener and the call to action are left: shorten the opener to the room beside the CTA.
    rest = _Draft(body=[""], cta=draft.cta, compact=draft.compact).render()
    room = limit - measure(rest) - (1 if draft.compact else 2)
    trimmed = trim_to(draft.body[0], room, measure) if room > 10 else ""
    if trimmed:
        draft.body = [trimmed]
        text = draft.render()
        if measure(text) <= limit:
            return text
    return trim_to(text, limit, measure)


def compose_post(
    brief: Brief,
    brand: BrandProfile,
    platform: str,
    *,
    seed: str,
    facts: Sequence[str] = (),
    extra_tags: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """A post for `platform` from the brief and brand, within the platform's limit (and `limit`)."""
    salt = (seed, platform, "post")
    brand_or_us = brand.name or "us"
    slots = {
        "headline": brief.headline,
        "Headline": capitalize(brief.headline),
        "brand_or_us": brand_or_us,
        "brand_or_team": f"{brand.name} team" if brand.name else "team",
    }
    opener = pick(_OPENERS[brief.angle], *salt).format(**slots)
    use_emoji = emoji_allowed(brand, platform) and platform != "reddit"
    tone = _tone_kind(brand.tone)
    if tone and platform not in ("reddit", "youtube") and pick((True, False), *salt, "hook"):
        opener = f"{pick(_HOOKS[tone], *salt)} {opener}"
    if use_emoji:
        mark = pick(brand.emoji_set, *salt) if brand.emoji_set else (brief.emoji[0] if brief.emoji else "")
        opener = f"{opener} {mark or _ANGLE_EMOJI[brief.angle]}"
    body = [opener, *brief.details, *facts[:2]]
    extra: list[str] = []
    if platform in ("linkedin", "facebook", "youtube", "reddit", "instagram"):
        if brand.audience and platform in ("linkedin", "facebook"):
            extra.append(f"Made for {brand.audience}.")
        extra.append(pick(_CLOSERS[platform], *salt, "closer").format(**slots))
    # A brand CTA that carries its own link would clash with the brief's link: use a plain verb then.
    brand_cta_has_link = bool(re.search(r"https?://|www\.|\w\.\w+/", brand.call_to_action))
    cta_text = brand.call_to_action or _DEFAULT_CTA[brief.angle]
    if brief.link and brand_cta_has_link:
        cta_text = _DEFAULT_CTA[brief.angle] or "Learn more"
    if platform == "reddit":
        cta_text = "More details"
    cta = ""
    if brief.link and platform not in _NO_LINK_PLATFORMS:
        cta = f"{cta_text.rstrip('.:!')}: {brief.link}" if cta_text else brief.link
    elif brief.link and cta_text:
        cta = f"{cta_text.rstrip('.:!')}: link in bio."
    elif brand.call_to_action:
        cta = brand.call_to_action
    if cta and use_emoji and platform in _NO_LINK_PLATFORMS:
        cta = f"👉 {cta}"
    tags = pick_hashtags(brief, brand, platform, extra=extra_tags)
    draft = _Draft(body=body, extra=extra, cta=cta, tags=tags, compact=platform in _COMPACT)
    _scrub_draft(draft, brand.banned)
    if not use_emoji:
        draft.body = [strip_emoji(s) for s in draft.body]
        draft.extra = [strip_emoji(s) for s in draft.extra]
        draft.cta = strip_emoji(draft.cta)
    if platform == "youtube":
        draft.body = [s.replace("<", "").replace(">", "") for s in draft.body]
    cap = TEXT_LIMITS.get(platform, 280)
    return _fit(draft, platform, min(cap, limit) if limit else cap)


def _scrub_draft(draft: _Draft, banned: Sequence[str]) -> None:
    if not banned:
        return
    # The opener carries the topic, so banned words are cut out of it; any other sentence that uses
    # one is dropped whole, which reads better than a sentence with holes.
    opener, *rest = draft.body
    draft.body = [scrub_words(opener, banned), *(s for s in rest if not contains_banned(s, banned))]
    draft.body = [s for s in draft.body if s.strip(" .")]
    draft.extra = [s for s in draft.extra if not contains_banned(s, banned)]
    draft.cta = scrub_words(draft.cta, banned)
    if not draft.body:
        draft.body = ["Something new is coming."]


# --- replies to comments and messages ---

_REPLY_SOURCE_RE = re.compile(
    r"(?:comment|message|review|dm|mention|reply to|respond to|said|says|wrote)\s*:\s*(.+)", re.I | re.S
)


def comment_of(request: str) -> str:
    """The comment a reply request is about: a quoted string, the text after `comment:`, or the request."""
    quoted = [q for q in find_quoted(request) if len(q.split()) >= 2]
    if quoted:
        return quoted[0]
    match = _REPLY_SOURCE_RE.search(request)
    if match:
        return match.group(1).strip()
    # "Classify the sentiment of: <text>": what follows an early colon is the text itself.
    head, colon, tail = request.partition(":")
    if colon and len(head) <= 80 and len(tail.split()) >= 3:
        return tail.strip()
    return request


def compose_reply(
    request: str, brand: BrandProfile, platform: str, *, seed: str, facts: Sequence[str] = ()
) -> str:
    """A short, on-brand reply to the comment in `request`, fitted to the platform."""
    comment = comment_of(request)
    # The author is whoever the comment mentions, except the brand's own handle.
    slug = re.sub(r"\W", "", brand.name.lower())
    handles = [
        h
        for h in find_mentions(comment) or find_mentions(request)
        if not (slug and slug.startswith(h[1:].lower()))
    ]
    to = f", {handles[0]}" if handles else ""
    kind = classify(comment, ["question", "complaint", "praise", "neutral"])
    reading = score_sentiment(comment)
    if kind == "neutral" and reading.label == POSITIVE:
        kind = "praise"
    if kind == "neutral" and reading.label == NEGATIVE:
        kind = "complaint"
    thing = next((p for p in brand.products if p.lower() in comment.lower()), "it")
    use_emoji = emoji_allowed(brand, platform) or brand.emoji is True
    salt = (seed, platform, "reply")
    if kind == "complaint":
        text = pick(
            (
                f"We're sorry to hear this{to}, and we want to help. Please send us a DM with your order "
                "details so our team can look into it right away.",
                f"Thanks for telling us{to}. That's not the experience we want for you. Please DM us the "
                "details and we'll look into it today.",
            ),
            *salt,
        )
    elif kind == "question":
        answer = facts[0] if facts else "Our team will get back to you with the details shortly."
        text = f"Great question{to}! {answer} Feel free to DM us anytime."
    elif kind == "praise":
        mark = " 💛" if use_emoji else ""
        text = pick(
            (
                f"Thank you so much{to}!{mark} We're so glad you're enjoying {thing}.",
                f"This made our day{to}!{mark} Thanks for the love.",
            ),
            *salt,
        )
    else:
        text = f"Thanks for reaching out{to}! We appreciate you sharing this with us."
    text = scrub_words(text, brand.banned)
    return trim_to(text, TEXT_LIMITS.get(platform, 280), measure_for(platform))


# --- crisis holding statements: acknowledge, show action, give next steps; never admit liability ---

_LIABILITY_RE = re.compile(
    r"\b(?:fault|faulty|liab\w*|negligen\w*|guilty|admit\w*|culpab\w*|blame\w*|our mistake|we caused|"
    r"caused by us|responsible for|we messed up|we failed|our error)\b",
    re.I,
)
# Preferred markers first: "about X" names the issue more reliably than "on X" or "over X".
_ISSUE_RES = (
    re.compile(r"\b(?:about|regarding|concerning)\s+(?:the\s+)?(.+)", re.I | re.S),
    re.compile(r"\b(?:over|around|on)\s+(?:the\s+)?(.+)", re.I | re.S),
)


def crisis_issue(request: str) -> str:
    """A neutral noun phrase for the issue in a crisis request, with any admission of fault removed."""
    source = find_quoted(request)[0] if find_quoted(request) else request
    text = " ".join(clean_topic(source).split())
    match = next((m for m in (r.search(text) for r in _ISSUE_RES) if m), None)
    phrase = match.group(1) if match else ""
    # Stop at the first clause that could assert cause or blame.
    phrase = re.split(r"[.,;:!?]|\b(?:that|which|because|since|who|after|and we|we)\b", phrase, maxsplit=1)[0]
    phrase = _LIABILITY_RE.sub("", phrase)
    phrase = " ".join(w for w in phrase.split() if w.lower() not in ("statement", "holding", "crisis"))
    words = phrase.split()[:8]
    return " ".join(words).strip() if len(words) >= 1 else "the issue some of you have raised"


def compose_statement(request: str, brand: BrandProfile, *, seed: str, limit: int | None = None) -> str:
    """A calm holding statement: we hear you, we're looking into it, here is what happens next."""
    issue = crisis_issue(request)
    if issue != "the issue some of you have raised" and not issue.lower().startswith(("the ", "our ", "a ")):
        issue = f"the {issue}" if not issue[:1].isupper() else issue
    who = brand.name or "our team"
    contact = brand.website or "a direct message"
    text = pick(
        (
            f"We're aware of the concerns being raised about {issue}. We take them seriously, and {who} is "
            f"looking into it right now. We'll share an update within 24 hours. If you've been affected, "
            f"please reach out via {contact} so we can help you directly. Thank you for your patience.",
            f"We've seen the posts about {issue} and we're listening. Our team is gathering the facts and "
            f"we'll update you here within 24 hours. In the meantime, anyone affected can contact us via "
            f"{contact} and we'll respond personally.",
        ),
        seed,
        "statement",
    )
    text = _LIABILITY_RE.sub("", scrub_words(text, brand.banned))
    text = " ".join(text.split())
    return trim_to(text, limit) if limit else text
