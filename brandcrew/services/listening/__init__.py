"""Social listening: boolean queries, sentiment analyzers, trends, crisis detection and polling."""

from brandcrew.services.listening.crisis import (
    AlertKind,
    AuthorSignal,
    BucketStats,
    CrisisAlert,
    CrisisConfig,
    CrisisDetector,
    CrisisMonitor,
    MentionBucketer,
    detect_series,
)
from brandcrew.services.listening.polling import (
    ListeningOptions,
    PollReport,
    QueryPoll,
    poll_workspace,
)
from brandcrew.services.listening.query import (
    QueryFilter,
    QuerySyntaxError,
    parse_query,
)
from brandcrew.services.listening.sentiment import (
    LexiconAnalyzer,
    MiniLMHeadAnalyzer,
    SentimentAnalyzer,
    SentimentResult,
    TransformersAnalyzer,
    detect_language,
)
from brandcrew.services.listening.trends import (
    Trend,
    TrendConfig,
    TrendTracker,
    find_trends,
)

__all__ = (
    "AlertKind",
    "AuthorSignal",
    "BucketStats",
    "CrisisAlert",
    "CrisisConfig",
    "CrisisDetector",
    "CrisisMonitor",
    "LexiconAnalyzer",
    "ListeningOptions",
    "MentionBucketer",
    "MiniLMHeadAnalyzer",
    "PollReport",
    "QueryFilter",
    "QueryPoll",
    "QuerySyntaxError",
    "SentimentAnalyzer",
    "SentimentResult",
    "TransformersAnalyzer",
    "Trend",
    "TrendConfig",
    "TrendTracker",
    "detect_language",
    "detect_series",
    "find_trends",
    "parse_query",
    "poll_workspace",
)
