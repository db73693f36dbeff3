"""Where subgraphs may live: the allow-list of subgraph URLs.

The gateway sends every subgraph the caller's ``Authorization`` header, and the registry
fetches SDLs from the URLs it is given, so a URL outside the platform would receive
credentials and let the registry be used to read other servers. Each pattern is
``scheme://host[:port][/path]``: ``host`` may be a glob (``*.nudges.internal``), ``port``
may be ``*`` (any port; absent: the scheme's default), and ``path`` is a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidUrlPattern(ValueError):
    """An allow-list entry that is not ``scheme://host[:port][/path]``."""


@dataclass(frozen=True)
class UrlPattern:
    """One entry of the allow-list."""

    scheme: str
    host: str
    port: int | None  # None: any port
    path_prefix: str

    @classmethod
    def parse(cls, pattern: str) -> UrlPattern:
        """The pattern written as ``scheme://host[:port][/path]``."""
        scheme, sep, rest = pattern.strip().partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in DEFAULT_PORTS:
            raise InvalidUrlPattern(f"{pattern!r}: expected http:// or https://")
        hostport, slash, path = rest.partition("/")
        host, colon, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        if not host or "@" in hostport:
            raise InvalidUrlPattern(f"{pattern!r}: expected a host")
        if colon and port != "*" and not port.isdigit():
            raise InvalidUrlPattern(f"{pattern!r}: the port must be a number or *")
        number = None if port == "*" else int(port) if port else DEFAULT_PORTS[scheme]
        return cls(scheme, host.lower(), number, slash + path)

    def matches(self, scheme: str, host: str, port: int, path: str) -> bool:
        return (
            scheme == self.scheme
            and fnmatchcase(host, self.host)
            and (self.port is None or port == self.port)
            and path.startswith(self.path_prefix)
        )


class SubgraphUrls:
    """The allow-list: a URL is allowed when it is a plain http(s) URL (no user info) that
    one of the patterns matches."""

    def __init__(self, patterns: tuple[str, ...] | list[str]) -> None:
        self.patterns = tuple(UrlPattern.parse(p) for p in patterns)

    def allows(self, url: str) -> bool:
        """True when a subgraph may be registered (and its SDL fetched) at ``url``."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
            return False
        port = port if port is not None else DEFAULT_PORTS[scheme]
        path = parts.path or "/"
        return any(p.matches(scheme, parts.hostname, port, path) for p in self.patterns)
