"""Builders for influencer tests: a coffee brand and three constructed authors told apart by discovery."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from brandcrew.connectors.base import RemoteMention
from brandcrew.memory.embedders import HashingEmbedder
from brandcrew.services import mentions
from brandcrew.services.brand import BrandProfile

EMBEDDER = HashingEmbedder(384)


def coffee_brand(workspace_id: str = "northwind") -> BrandProfile:
    """A specialty coffee brand with pillars, products and hashtags."""
    return BrandProfile(
        workspace_id=workspace_id,
        name="Northwind Coffee",
        industry="specialty coffee roaster",
        pillars=["pour over brewing", "single origin coffee beans", "espresso at home", "coffee roasting"],
        products=["Guji natural espresso blend", "home grinder"],
        hashtags=["#pourover", "#specialtycoffee", "#espresso"],
    )


COFFEE = coffee_brand()

ON_TOPIC = [
    "My pour over routine with @northwindcoffee Guji beans: 15g coffee, 250g water, bloom 40s #pourover",
    "Dialled in espresso at home today, the Northwind single origin beans pull sweet and syrupy #espresso",
    "Roasting day notes: lighter roast brings out the berry in this single origin coffee #specialtycoffee",
    "Grinder comparison for pour over brewing, Northwind home grinder is the quiet winner",
    "Cold brew vs pour over with natural process coffee beans, Northwind's Guji wins both",
    "Espresso ratio experiments: 1:2.5 with the Northwind blend, light roast coffee shines",
]
OFF_TOPIC = [
    "Bitcoin to the moon again, also saw a Northwind ad lol #crypto",
    "Transfer window madness, our striker is gone. Northwind sponsor the stadium screens now",
    "New gaming chair unboxing tonight, shoutout Northwind for the giveaway",
    "Crypto portfolio update: altcoins bleeding, Northwind cup in hand",
    "Football highlights thread, last minute winner! Northwind was there too",
    "NFT drop at midnight, mint price 0.05, Northwind fans get the allowlist",
]


def mention(
    author: str, i: int, text: str, *, followers: int, likes: int, at: datetime, name: str = ""
) -> RemoteMention:
    return RemoteMention(
        remote_id=f"{author}-{i}",
        author_id=f"id-{author}",
        author_username=author,
        author_name=name or author.title(),
        author_followers=followers,
        text=text,
        url=f"https://x.example/{author}/{i}",
        language="en",
        created_at=at,
        likes=likes,
        replies=likes // 10,
        shares=likes // 20,
    )


def positive(texts: Any) -> list[tuple[float, str]]:
    return [(0.6, "positive") for _ in texts]


def store(session: Session, workspace_id: str, items: list[RemoteMention]) -> None:
    mentions.store_mentions(session, workspace_id=workspace_id, platform="x", mentions=items, scorer=positive)


def constructed_authors(start: datetime) -> list[RemoteMention]:
    """Three authors built to be told apart: relevant and authentic, big and off-topic, bought."""
    items = []
    # Relevant, authentic: 18k followers growing slowly, ~1.3% engagement per post, steady.
    for i, text in enumerate(ON_TOPIC):
        items.append(
            mention(
                "brewnerd",
                i,
                text,
                followers=18_000 + 40 * i,
                likes=200 + 15 * (i % 3),
                at=start + timedelta(days=i),
            )
        )
    # Big and off-topic: 2.4M followers, normal engagement for the size on X.
    for i, text in enumerate(OFF_TOPIC):
        items.append(
            mention(
                "megastar", i, text, followers=2_400_000, likes=2_600 + 100 * i, at=start + timedelta(days=i)
            )
        )
    # Bought: on-topic texts, but 3k -> 45k followers in two days, engagement of a 3k account, and
    # the one post that got engagement at all.
    followers = [3_000, 3_050, 45_000, 45_200, 45_300, 45_400]
    likes = [2, 1, 2, 1, 900, 2]
    for i, text in enumerate(ON_TOPIC):
        items.append(
            mention("growfast", i, text, followers=followers[i], likes=likes[i], at=start + timedelta(days=i))
        )
    return items
