"""Upload of large outputs over HTTP, before the job.succeeded frame refers to them."""

from __future__ import annotations

import httpx

from .endpoints import output_upload_path


class UploadError(Exception):
    pass


async def output_upload(
    client: httpx.AsyncClient,
    *,
    base_url: str,
    token: str,
    job: str,
    output_id: str,
    body: bytes,
    media_type: str,
) -> str:
    """PUT the output's bytes to the server; returns the href to send in job.succeeded."""
    path = output_upload_path(job, output_id)
    try:
        response = await client.put(
            base_url + path,
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": media_type},
        )
    except httpx.HTTPError as exc:
        raise UploadError(f"upload of output {output_id!r} failed: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 400:
        raise UploadError(f"upload of output {output_id!r} refused: {_refusal(response)}")
    return _href_from_response(response) or path


def _refusal(response: httpx.Response) -> str:
    """Status and, from a problem document, its detail; never an HTML error page."""
    text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    try:
        problem = response.json()
    except ValueError:
        return text
    detail = problem.get("detail") or problem.get("title") if isinstance(problem, dict) else None
    return f"{text}: {str(detail)[:300]}" if detail else text


def _href_from_response(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("href"), str):
        return data["href"]
    return response.headers.get("Location")
