"""The baseline for bench.server: a bare FastAPI app reading the same post row from the same database,
with no auth, tenancy, rate limits, request ids, logs or metrics — what a GET costs before brandcrew's
own work. Run by the same uvicorn, same worker count."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, create_engine

from brandcrew.store.tables import Post

engine = create_engine(os.environ["BENCH_DATABASE_URL"])
app = FastAPI()


class PostOut(BaseModel):
    """The post fields the brandcrew route returns too."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    status: str
    content: dict[str, Any]
    scheduled_at: datetime | None = None
    created_at: datetime | None = None


@app.get("/api/posts/{post_id}", response_model=PostOut)
def read_post(post_id: str) -> Any:
    """One post by id."""
    with Session(engine) as session:
        post = session.get(Post, post_id)
        if post is None:
            raise HTTPException(404)
        return post
