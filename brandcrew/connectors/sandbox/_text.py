"""Templates and name parts the sandbox writes its simulated people's posts, mentions and DMs from."""

from __future__ import annotations

import random
import re
from typing import Final

Templates = dict[str, dict[str, tuple[str, ...]]]
"""language -> sentiment (or kind) -> templates."""

MENTIONS: Final[Templates] = {
    "en": {
        "positive": (
            "Just tried the new {product} from @{handle} and I'm honestly impressed 👏",
            "Shoutout to {brand} for the quick help with {topic} today!",
            "{product} has become part of my daily routine. Thanks @{handle}!",
            "Can't believe how good the {product} is. {brand} nailed it.",
            "Big fan of how @{handle} handles {topic}. More brands should do this.",
            "Recommended {brand} to three friends this week. The {product} is worth it.",
        ),
        "neutral": (
            "Has anyone compared the {product} from {brand} with the alternatives?",
            "@{handle} what are your opening hours this weekend?",
            "Saw an ad for the {product} today, thinking about it.",
            "Is the {product} by @{handle} available in {country} yet?",
            "Reading up on {brand}'s approach to {topic}.",
            "{brand} just posted about {topic}, interesting.",
        ),
        "negative": (
            "Really disappointed with {topic} from @{handle}. Waited two weeks for nothing.",
            "My {product} broke after a week. Not what I expect from {brand}.",
            "@{handle} still no answer about my {topic} issue. Third time asking.",
            "Why is {brand} so bad at {topic}? Frustrating.",
            "Thinking of switching away from {brand}, the {product} keeps letting me down.",
        ),
    },
    "es": {
        "positive": (
            "Me encanta el {product} de @{handle} 😍",
            "Gracias {brand} por la ayuda con {topic}, ¡rapidísimos!",
        ),
        "neutral": (
            "¿Alguien ha probado el {product} de {brand}?",
            "@{handle} ¿hacen envíos a {country}?",
        ),
        "negative": (
            "Muy decepcionado con {brand}, el {product} no funciona.",
            "@{handle} llevo días esperando respuesta sobre {topic}.",
        ),
    },
    "fr": {
        "positive": (
            "Franchement, le {product} de @{handle} est top 👌",
            "Merci {brand} pour l'aide rapide sur {topic} !",
        ),
        "neutral": (
            "Quelqu'un a testé le {product} de {brand} ?",
            "@{handle} vous livrez en {country} ?",
        ),
        "negative": (
            "Très déçu par {brand}, le {product} est déjà cassé.",
            "@{handle} toujours aucune réponse pour {topic}.",
        ),
    },
    "de": {
        "positive": (
            "Das {product} von @{handle} ist richtig gut 👍",
            "Danke {brand} für die schnelle Hilfe bei {topic}!",
        ),
        "neutral": (
            "Hat jemand schon das {product} von {brand} ausprobiert?",
            "@{handle} liefert ihr auch nach {country}?",
        ),
        "negative": (
            "Echt enttäuscht von {brand}, das {product} ist schon kaputt.",
            "@{handle} immer noch keine Antwort wegen {topic}.",
        ),
    },
}

CRISIS_MENTIONS: Final[Templates] = {
    "en": {
        "negative": (
            "Is it true what people are saying about {brand} and {topic}? Unacceptable. @{handle}",
            "@{handle} you owe your customers an explanation about {topic}. #boycott{tag}",
            "Done with {brand}. The {topic} situation is a disgrace.",
            "Everyone should know about {brand} and {topic} before buying the {product}.",
            "Waiting for @{handle} to address {topic}. Silence says a lot.",
            "Cancelled my order. {brand} and {topic}? No thanks.",
        ),
        "neutral": (
            "Following the {brand} {topic} story, does anyone have details?",
            "What exactly happened with {brand} and {topic}?",
        ),
        "positive": ("I still trust {brand}, let's hear their side on {topic}.",),
    },
    "es": {
        "negative": ("Vergonzoso lo de {brand} y {topic}. @{handle} expliquen esto.",),
        "neutral": ("¿Qué pasó con {brand} y {topic}?",),
        "positive": ("Sigo confiando en {brand}, esperemos su versión sobre {topic}.",),
    },
    "fr": {
        "negative": ("Honteux, cette histoire de {topic} chez {brand}. @{handle}",),
        "neutral": ("Quelqu'un sait ce qui se passe avec {brand} et {topic} ?",),
        "positive": ("J'attends la réponse de {brand} sur {topic} avant de juger.",),
    },
    "de": {
        "negative": ("Unglaublich, was bei {brand} mit {topic} los ist. @{handle}",),
        "neutral": ("Was ist eigentlich bei {brand} mit {topic} passiert?",),
        "positive": ("Ich vertraue {brand} noch, mal sehen, was sie zu {topic} sagen.",),
    },
}

DMS: Final[dict[str, tuple[str, ...]]] = {
    "question": (
        "Hi! Do you ship the {product} to {country}?",
        "Hello, how much does the {product} cost with shipping?",
        "Hi, is there a discount code for the {product}?",
        "Quick question about {topic}: who should I contact?",
        "Is the {product} back in stock soon?",
    ),
    "complaint": (
        "My order #{order} hasn't arrived and nobody answers my emails.",
        "The {product} I received is damaged. What can I do?",
        "I was charged twice for order #{order}. Please fix this.",
        "Your support about {topic} has been useless so far.",
    ),
    "praise": (
        "Just wanted to say thanks, the {product} is great!",
        "Your team helped me with {topic} yesterday, really appreciated.",
    ),
    "partnership": (
        "Hi {brand} team! I create content about {topic} for {followers} followers. Open to a collab?",
        "Hello! I run a page about {topic} ({followers} followers) and would love to feature the {product}.",
    ),
    "spam": (
        "Grow your followers fast!!! DM me for a special offer",
        "Congratulations, you have been selected for a free verification badge, click here",
    ),
    "crisis": (
        "I'm a customer and I'm worried about {topic}. Is my order affected?",
        "Cancel my order #{order}. After the {topic} news I don't want the {product}.",
        "Please explain what is going on with {topic}. I expected better from {brand}.",
    ),
}
DM_SENTIMENT: Final = {
    "question": "neutral",
    "complaint": "negative",
    "praise": "positive",
    "partnership": "positive",
    "spam": "neutral",
    "crisis": "negative",
}

COMMENTS: Final[dict[str, tuple[str, ...]]] = {
    "positive": (
        "Love this! 😍",
        "This is great, {brand}!",
        "Need the {product} in my life",
        "So good 🔥",
        "Best thing I've seen today",
    ),
    "neutral": ("Interesting", "When is this available in {country}?", "Tagging @{friend}", "Price?"),
    "negative": ("Meh.", "Fix {topic} first, then post ads.", "Still waiting for my refund.", "Overpriced."),
    "answer": ("Definitely the {product}!", "For me it's {topic}.", "Both, honestly 😄"),
    "crisis": (
        "Not a word about {topic}? Really?",
        "Answer the questions about {topic} instead of posting this.",
        "Posting like nothing happened. {topic}, anyone?",
    ),
}

FOLLOW_UPS: Final[dict[str, tuple[str, ...]]] = {
    "positive": ("Thanks for getting back to me!", "Perfect, that helps 🙏", "Great, thank you."),
    "negative": ("That doesn't solve anything.", "I've heard that before. Still waiting.", "Not helpful."),
}

COMPETITOR_POSTS: Final = (
    "Meet the new {product}: built for {topic}.",
    "{n} ways to get more out of your {product}",
    "Behind the scenes at {brand}: how we think about {topic}",
    "Weekend deal: {pct}% off the {product}",
    "What's your favourite way to use the {product}?",
    "Customer story: how {first} uses {brand} for {topic}",
    "We asked 1,000 customers about {topic}. Here is what they said.",
    "New colours for the {product} just dropped ✨",
)

FIRST_NAMES: Final = (
    "Alex", "Sam", "Maria", "Jordan", "Priya", "Lucas", "Emma", "Noah", "Aisha", "Chen", "Sofia",
    "Liam", "Fatima", "Mateo", "Hana", "Oliver", "Zoe", "Ravi", "Ines", "Tom", "Yuki", "Leah",
    "Omar", "Nina", "Diego", "Clara", "Ben", "Amara", "Felix", "Mia",
)  # fmt: skip
LAST_NAMES: Final = (
    "Smith", "Garcia", "Müller", "Kim", "Rossi", "Dubois", "Patel", "Nguyen", "Silva", "Cohen",
    "Khan", "Jensen", "Novak", "Sato", "Brown", "Lopez", "Martin", "Okafor", "Schmidt", "Weber",
)  # fmt: skip
COUNTRIES: Final = ("Canada", "Mexico", "Spain", "Germany", "France", "Australia", "Brazil", "Japan")
DEFAULT_TOPICS: Final = ("customer service", "delivery times", "pricing", "product quality", "the app")
CRISIS_TOPICS: Final = (
    "the data leak",
    "the product recall",
    "the price hike",
    "the offensive ad",
    "the delivery meltdown",
)
PRODUCT_SUFFIXES: Final = ("Pro", "Mini", "One", "Plus", "Go", "Max", "Lite", "Studio", "Classic", "Air")
_SYLLABLES: Final = ("no", "va", "lu", "ra", "ki", "to", "mer", "zen", "bri", "qua", "sol", "fi", "dor", "el")
_COMPANY_ENDINGS: Final = ("", "ly", "co", "io", "ora", "ix")


def company_name(r: random.Random) -> str:
    """A made-up company name, e.g. "Zenora"."""
    word = "".join(r.choice(_SYLLABLES) for _ in range(r.randint(2, 3))) + r.choice(_COMPANY_ENDINGS)
    return word.capitalize()


def handle_of(name: str) -> str:
    """A platform handle from a display name ("Acme Coffee" -> "acmecoffee")."""
    return re.sub(r"[^a-z0-9_]", "", name.lower())[:30] or "brand"


def tag_of(text: str) -> str:
    """A hashtag body from words ("delivery times" -> "DeliveryTimes")."""
    return "".join(w.capitalize() for w in re.findall(r"\w+", text))[:30]


def fill(template: str, values: dict[str, str]) -> str:
    """`template` with its {placeholders} replaced; unknown ones stay as written."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)
