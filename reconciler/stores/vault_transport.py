"""How the Vault store's hvac calls travel: over one urllib3 connection pool per store.

hvac sends with requests by default, and requests spends about 0.4 ms of CPU per call merging session,
environment and cookie settings before urllib3 (which it sends with) does any work: for a plan that reads
one index per org, that was a third of the CPU of reading Vault. hvac's adapter is its documented
extension point; this one keeps hvac's URLs, headers and exceptions and leaves out requests' layer.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from typing import Any
from urllib.parse import urlencode

import hvac.adapters
import hvac.utils
import requests.utils
import urllib3

MAX_CONNECTIONS = 64  # above any sensible --parallelism: a full pool would open and drop extra connections
# A Vault answer is bounded like a provider's (contract §7): a server that sends without end, or a byte at a
# time, must not hold the run or its memory. An index of 10,000 webhooks is about 1 MiB.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
ANSWER_DEADLINE = 60.0  # seconds from sending a request to the last byte of its answer


class AnswerTooLarge(Exception):
    pass


class AnswerTooSlow(Exception):
    pass


def connection_pool(address: str, timeout: float) -> urllib3.PoolManager:
    """A pool for `address` with what requests would have read from the environment, read once: a proxy
    from HTTP(S)_PROXY/ALL_PROXY unless NO_PROXY names the host, and the CA bundle of REQUESTS_CA_BUNDLE
    or CURL_CA_BUNDLE (else certifi's, as requests does)."""
    options: dict[str, Any] = {
        "maxsize": MAX_CONNECTIONS,
        "timeout": urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
        "retries": False,  # as hvac with requests: a Vault call is never repeated behind the caller's back
    }
    if address.startswith("https:"):
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        options["ssl_context"] = ssl.create_default_context(cafile=bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH)
    proxies = requests.utils.get_environ_proxies(address)
    proxy = proxies.get(address.split(":", 1)[0]) or proxies.get("all")
    return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


class PooledAdapter(hvac.adapters.JSONAdapter):  # type: ignore[misc]  # hvac is untyped
    """hvac's JSON adapter, sending through `pool` instead of a requests session."""

    def __init__(self, *args: Any, pool: urllib3.PoolManager, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, raise_exception: bool = True, **kwargs: Any
    ) -> Any:
        # The header and URL rules of hvac's RawAdapter.request, without its requests call.
        while "//" in url:
            url = url.replace("//", "/")
        url = self.urljoin(self.base_uri, url)
        headers = {**(headers or {}), "X-Vault-Request": "true", "X-Vault-Token": self.token}
        if self.namespace:
            headers["X-Vault-Namespace"] = self.namespace
        if kwargs.get("params"):
            url += "?" + urlencode(kwargs["params"])
        body = None
        if kwargs.get("json") is not None:
            body = json.dumps(kwargs["json"]).encode()
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + ANSWER_DEADLINE
        response = self.pool.request(
            method.upper(), url, body=body, headers=headers, redirect=False, preload_content=False
        )
        data = _bounded_read(response, deadline)
        payload = _json(response, data)
        if response.status >= 400 and raise_exception and not self.ignore_exceptions:
            errors = payload.get("errors") if isinstance(payload, dict) else None
            text = data.decode(errors="replace")
            hvac.utils.raise_for_error(
                method, url, response.status, None if errors else text, errors=errors, text=text, json=payload
            )
        return payload if response.status == 200 and payload is not None else response


def _bounded_read(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """The answer's body, at most MAX_ANSWER_BYTES and by the deadline (each read also waits at most the pool's
    read timeout); otherwise the connection is dropped and the call fails."""
    chunks: list[bytes] = []
    size = 0
    try:
        # read1: whatever has arrived, at once; a fixed-size read of a trickle would wait for all of it.
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(f"the answer is larger than {MAX_ANSWER_BYTES >> 20} MiB")
            if time.monotonic() > deadline:
                raise AnswerTooSlow(f"the answer took longer than {ANSWER_DEADLINE:.0f} s")
            chunks.append(chunk)
    except BaseException:
        response.close()  # never hand a half-read connection back to the pool
        raise
    response.release_conn()
    return b"".join(chunks)


def _json(response: urllib3.BaseHTTPResponse, data: bytes) -> Any:
    if not data or "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None
