"""python-telegram-bot's networking on aiohttp instead of httpx: the same Bot API calls, less CPU.

Why: under load, three quarters of the front end's CPU went into PTB's default HTTPXRequest
(py-spy on benchmarks/full_path.py, 100 chats): httpx + httpcore + anyio spend several
milliseconds per Bot API call, part of it retrying a failed optional import on every request.
aiohttp (already installed: Rasa's web stack) does the same request for a fraction of that.
PTB documents `BaseRequest` as the way to bring another HTTP library; this is that.

Errors map to PTB's own: a timeout is `TimedOut`, anything else on the network `NetworkError`,
so PTB's retry logic, the AIORateLimiter and our delivery code see what they see with httpx.
"""

from __future__ import annotations

import asyncio
from typing import Dict, Optional, Tuple, Union
from urllib.request import getproxies

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp session; `connection_pool_size` connections to the Bot API at most."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: Optional[float] = 10.0,
        write_timeout: Optional[float] = 10.0,
        connect_timeout: Optional[float] = 5.0,
        pool_timeout: Optional[float] = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: Optional[aiohttp.ClientSession] = None

    @property
    def read_timeout(self) -> Optional[float]:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                # As httpx: HTTPS_PROXY and friends are honoured for Telegram; but only looked up
                # when one is set, since aiohttp's lookup (and ~/.netrc) costs CPU on every call.
                trust_env=bool(getproxies()),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def _pick(value: ODVInput[float], default: Optional[float]) -> Optional[float]:
        return default if isinstance(value, DefaultValue) else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: Optional[RequestData] = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> Tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        connect = self._pick(connect_timeout, self._connect_timeout)
        pool = self._pick(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a pooled connection as well as connecting
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=self._pick(read_timeout, self._read_timeout),
        )
        data: Union[aiohttp.FormData, Dict[str, str], None] = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                data = request_data.json_parameters  # form-encoded, as PTB's HTTPXRequest sends
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as err:
            raise TimedOut() from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err
