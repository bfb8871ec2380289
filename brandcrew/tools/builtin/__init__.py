"""Built-in tools, one module per domain; importing this package registers nothing by itself."""

from brandcrew.tools.builtin import (
    analytics,
    brand,
    commerce,
    content,
    crisis,
    inbox,
    influencers,
    listening,
    memory,
)

MODULES = (analytics, brand, commerce, content, crisis, inbox, influencers, listening, memory)
