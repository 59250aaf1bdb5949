"""Sessions for FastAPI::

    from fastapi import Depends, FastAPI
    from tessera.framework.fastapi import Session, TesseraMiddleware
    from tessera.framework.fastapi import create_new_session, verify_session

    app = FastAPI()
    app.add_middleware(TesseraMiddleware)

    @app.post("/login")
    async def login(request: Request):
        await create_new_session(request, "user-1")
        return {"ok": True}

    @app.post("/logout")
    async def logout(session: Session = Depends(verify_session())):
        await session.revoke_session()  # ends it in the database and clears the cookies
        return {"ok": True}

FastAPI runs on Starlette, so this is the Starlette adapter under FastAPI's name.
"""

from __future__ import annotations

from .starlette import Session, TesseraMiddleware, create_new_session, get_session, verify_session

__all__ = ["Session", "TesseraMiddleware", "create_new_session", "get_session", "verify_session"]
