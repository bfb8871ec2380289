"""Vector memory: the `VectorMemory` port, sqlite-vec and Pinecone backends, embedders, brand voice.

`VectorMemoryStore` exposes any backend as a LangGraph `BaseStore`. Nothing here imports
services, agents or tools: memory sits below them.
"""

from brandcrew.memory._filters import InvalidFilterError as InvalidFilterError
from brandcrew.memory.brand_voice import BrandVoiceProfile as BrandVoiceProfile
from brandcrew.memory.brand_voice import Draft as Draft
from brandcrew.memory.brand_voice import LengthStats as LengthStats
from brandcrew.memory.brand_voice import VoiceExample as VoiceExample
from brandcrew.memory.brand_voice import VoiceScore as VoiceScore
from brandcrew.memory.brand_voice import load_brand_voice as load_brand_voice
from brandcrew.memory.brand_voice import roc_auc as roc_auc
from brandcrew.memory.brand_voice import save_brand_voice as save_brand_voice
from brandcrew.memory.brand_voice import score_drafts as score_drafts
from brandcrew.memory.brand_voice import train_brand_voice as train_brand_voice
from brandcrew.memory.defaults import open_memory as open_memory
from brandcrew.memory.defaults import open_store as open_store
from brandcrew.memory.embedders import Embedder as Embedder
from brandcrew.memory.embedders import HashingEmbedder as HashingEmbedder
from brandcrew.memory.embedders import LiteLLMEmbedder as LiteLLMEmbedder
from brandcrew.memory.embedders import MiniLMEmbedder as MiniLMEmbedder
from brandcrew.memory.embedders import default_embedder as default_embedder
from brandcrew.memory.embedders import minilm_available as minilm_available
from brandcrew.memory.pinecone_backend import PineconeMemory as PineconeMemory
from brandcrew.memory.port import DimensionMismatchError as DimensionMismatchError
from brandcrew.memory.port import Filter as Filter
from brandcrew.memory.port import IndexSpec as IndexSpec
from brandcrew.memory.port import Match as Match
from brandcrew.memory.port import Metric as Metric
from brandcrew.memory.port import Record as Record
from brandcrew.memory.port import VectorMemory as VectorMemory
from brandcrew.memory.port import validate_filter as validate_filter
from brandcrew.memory.remember import MEMORY_METADATA_FIELDS as MEMORY_METADATA_FIELDS
from brandcrew.memory.remember import DocumentMemory as DocumentMemory
from brandcrew.memory.remember import MemoryHit as MemoryHit
from brandcrew.memory.remember import MentionMemory as MentionMemory
from brandcrew.memory.remember import MessageMemory as MessageMemory
from brandcrew.memory.remember import PostMemory as PostMemory
from brandcrew.memory.remember import remember_documents as remember_documents
from brandcrew.memory.remember import remember_mentions as remember_mentions
from brandcrew.memory.remember import remember_messages as remember_messages
from brandcrew.memory.remember import remember_posts as remember_posts
from brandcrew.memory.remember import search_memory as search_memory
from brandcrew.memory.sqlite_vec import SqliteVecMemory as SqliteVecMemory
from brandcrew.memory.store import STORE_METADATA_FIELDS as STORE_METADATA_FIELDS
from brandcrew.memory.store import VectorMemoryStore as VectorMemoryStore

__all__ = (
    "MEMORY_METADATA_FIELDS",
    "STORE_METADATA_FIELDS",
    "BrandVoiceProfile",
    "DimensionMismatchError",
    "DocumentMemory",
    "Draft",
    "Embedder",
    "Filter",
    "HashingEmbedder",
    "IndexSpec",
    "InvalidFilterError",
    "LengthStats",
    "LiteLLMEmbedder",
    "Match",
    "MemoryHit",
    "MentionMemory",
    "MessageMemory",
    "Metric",
    "MiniLMEmbedder",
    "PineconeMemory",
    "PostMemory",
    "Record",
    "SqliteVecMemory",
    "VectorMemory",
    "VectorMemoryStore",
    "VoiceExample",
    "VoiceScore",
    "default_embedder",
    "load_brand_voice",
    "minilm_available",
    "open_memory",
    "open_store",
    "remember_documents",
    "remember_mentions",
    "remember_messages",
    "remember_posts",
    "roc_auc",
    "save_brand_voice",
    "score_drafts",
    "search_memory",
    "train_brand_voice",
    "validate_filter",
)
