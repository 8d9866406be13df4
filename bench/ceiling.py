"""Ceiling app for bench/run.py: a bare Starlette route serving one constant JSON body.

Run: python bench/ceiling.py --port 8001 --path /usage --body-file body.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from usagemock.cli.onewrite import OneWriteProtocol


def make_app(path: str, body: bytes) -> Starlette:
    """Build a Starlette app answering GET `path` with `body` as application/json."""

    async def endpoint(request: Request) -> Response:
        """Return the constant body."""
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route(path, endpoint, methods=["GET"])])


def main() -> None:
    """Parse arguments and serve under uvicorn with the same settings as the mock."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/usage")
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument(
        "--one-write", action="store_true", help="write each response at once, as the mock does"
    )
    args = parser.parse_args()
    app = make_app(args.path, args.body_file.read_bytes())
    http = OneWriteProtocol if args.one_write else "auto"
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
        http=http,
    )


if __name__ == "__main__":
    main()
