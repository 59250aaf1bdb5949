"""Session functions for synchronous code (Flask, Django, scripts).

The module-level functions use the default object set up by ``tessera.init()``;
``Tessera(...).syncio`` offers the same functions bound to one object. Each function
here is the method of ``SyncSessions`` of the same name, called on the default.
"""

from __future__ import annotations

from . import get_default
from ._binding import bound_to_default
from ._sync import Session, SyncSessions

__all__ = [
    "Session",
    "SyncSessions",
    "create_new_session",
    "get_all_session_handles_for_user",
    "get_jwks",
    "get_session_information",
    "get_session_without_request_response",
    "get_sessions_for_user",
    "mark_reauthenticated",
    "merge_into_access_token_payload",
    "purge_expired",
    "refresh_session_without_request_response",
    "regenerate_access_token",
    "revoke_all_sessions_for_user",
    "revoke_multiple_sessions",
    "revoke_other_sessions",
    "revoke_session",
    "update_session_data_in_database",
]


def _default() -> SyncSessions:
    return get_default().syncio


create_new_session = bound_to_default(SyncSessions.create_new_session, _default, __name__)
get_session_without_request_response = bound_to_default(
    SyncSessions.get_session_without_request_response, _default, __name__
)
refresh_session_without_request_response = bound_to_default(
    SyncSessions.refresh_session_without_request_response, _default, __name__
)
revoke_session = bound_to_default(SyncSessions.revoke_session, _default, __name__)
revoke_multiple_sessions = bound_to_default(
    SyncSessions.revoke_multiple_sessions, _default, __name__
)
revoke_all_sessions_for_user = bound_to_default(
    SyncSessions.revoke_all_sessions_for_user, _default, __name__
)
get_all_session_handles_for_user = bound_to_default(
    SyncSessions.get_all_session_handles_for_user, _default, __name__
)
get_session_information = bound_to_default(SyncSessions.get_session_information, _default, __name__)
update_session_data_in_database = bound_to_default(
    SyncSessions.update_session_data_in_database, _default, __name__
)
merge_into_access_token_payload = bound_to_default(
    SyncSessions.merge_into_access_token_payload, _default, __name__
)
regenerate_access_token = bound_to_default(SyncSessions.regenerate_access_token, _default, __name__)
get_jwks = bound_to_default(SyncSessions.get_jwks, _default, __name__)
purge_expired = bound_to_default(SyncSessions.purge_expired, _default, __name__)
revoke_other_sessions = bound_to_default(SyncSessions.revoke_other_sessions, _default, __name__)
mark_reauthenticated = bound_to_default(SyncSessions.mark_reauthenticated, _default, __name__)
get_sessions_for_user = bound_to_default(SyncSessions.get_sessions_for_user, _default, __name__)
