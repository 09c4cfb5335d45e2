"""Mail backends: smtp (aiosmtplib), file (.eml per message) and console.

A backend hands out *connections*; the dispatcher gives each of its workers one
connection and sends many messages through it, so an SMTP session (TLS
handshake, login) is paid once per worker, not once per message. Every failure
is turned into a SendError that says whether retrying can help, because that is
the only thing the outbox needs to know.

MailConfig lives here (not in workflow/) so this package never imports the
workflow: workflow.config builds one and passes it in.
"""
from __future__ import annotations

import asyncio
import email.policy
import functools
import os
import re
import socket
import ssl
import sys
from dataclasses import dataclass, field, fields
from email.header import Header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import Protocol, TextIO

DEFAULT_SENDER = "督办系统 <duban@localhost>"
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}


@dataclass
class MailConfig:
    """The [mail] section, already validated. The password is never shown by repr."""

    backend: str = "file"  # file | smtp | console
    sender: str = DEFAULT_SENDER
    dir: Path = Path("outbox")
    host: str = "localhost"
    port: int | None = None  # None: by security (587 / 465 / 25)
    security: str = "starttls"  # starttls | tls | plain
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    connections: int = 8
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    domain: str | None = None  # for Message-IDs and calendar UIDs; default: the sender's domain

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name != "password")
        secret = "'***'" if self.password else "None"
        return f"MailConfig({shown}, password={secret})"

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.security, 25)

    @property
    def id_domain(self) -> str:
        """The right-hand side of Message-IDs and calendar UIDs: [mail] domain, else the
        domain of the sender address (an office's own domain, never a made-up one)."""
        if self.domain:
            return self.domain
        address = parseaddr(self.sender)[1]
        return (address.rpartition("@")[2] or "localhost").lower()

    @property
    def envelope_sender(self) -> str:
        """The bare address of `sender`, for MAIL FROM."""
        return parseaddr(self.sender)[1] or "duban@localhost"


class _FastSMTPPolicy(email.policy.EmailPolicy):
    """email.policy.SMTP, minus the costly header machinery where it changes nothing.

    The modern policy parses every header when it is set and re-parses it when
    the message is written (~50 µs each, fifteen per message); that, not the
    network, limits a dispatcher keeping eight SMTP sessions busy from one event
    loop. Here headers are stored and read back as the strings we set (as
    compat32 does) and written directly when they are short ASCII; a non-ASCII Subject or address
    display name is RFC 2047-encoded with email.header / formataddr; anything
    else takes the standard path. tests check the result parses back identical.
    """

    def header_store_parse(self, name, value):  # noqa: ANN001 - email.policy signature
        if hasattr(value, "name"):
            return value.name, value
        text = str(value)
        if "\r" in text or "\n" in text:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return name, text

    def header_fetch_parse(self, name, value):  # noqa: ANN001 - email.policy signature
        return value  # the string we stored; Message's own parsing handles params

    def fold_binary(self, name, value):  # noqa: ANN001 - email.policy signature
        text = str(value)
        if "\r" not in text and "\n" not in text:
            line = _fast_line(name, text, self.max_line_length, self.linesep)
            if line is not None:
                return line
        if not hasattr(value, "name"):  # a stored string: let the header registry fold it
            value = self.header_factory(name, "".join(text.splitlines()))
        return super().fold_binary(name, value)


def _fast_line(name: str, text: str, limit: int, linesep: str) -> bytes | None:
    if text.isascii():
        if len(name) + len(text) + 2 <= limit or (name.lower() == "message-id" and len(text) < 990):
            # A Message-ID is one token: folded, readers keep the fold's space in the id.
            return f"{name}: {text}{linesep}".encode("ascii")
        return None
    lower = name.lower()
    if lower == "subject":
        encoded = Header(text, "utf-8", header_name=name).encode(linesep=linesep)
        return f"{name}: {encoded}{linesep}".encode("ascii")
    if lower in ("from", "to"):
        pairs = getaddresses([text])
        if all(addr and addr.isascii() for _n, addr in pairs):
            line = ", ".join(_address(display, addr, name, linesep) for display, addr in pairs)
            if all(len(part) <= limit for part in f"{name}: {line}".split(linesep)):
                return f"{name}: {line}{linesep}".encode("ascii")
    return None


def _address(display: str, addr: str, header: str, linesep: str) -> str:
    if display.isascii():
        return formataddr((display, addr))
    encoded = Header(display, "utf-8", header_name=header).encode(linesep=linesep)
    return f"{encoded} <{addr}>"


class _CachedRegistry(HeaderRegistry):
    """HeaderRegistry builds a new class on every lookup; build each one once."""

    @functools.lru_cache(maxsize=256)
    def __getitem__(self, name):  # noqa: ANN001 - HeaderRegistry signature
        return super().__getitem__(name)


MESSAGE_POLICY = _FastSMTPPolicy(header_factory=_CachedRegistry())  # build with this ("\n")
WIRE_POLICY = MESSAGE_POLICY.clone(linesep="\r\n")  # and write them with this


def message_bytes(message: EmailMessage) -> bytes:
    """The message as sent on the wire (CRLF, 7-bit: bodies are base64)."""
    return message.as_bytes(policy=WIRE_POLICY)


class SendError(Exception):
    """A message could not be handed over.

    permanent: retrying will not help (5xx, refused recipient).
    broken: the connection is unusable; the worker must reconnect or stop.
    unreachable: we never got a session (refused, timeout, bad greeting).
    fatal: a configuration problem (authentication) that fails every message.
    """

    def __init__(self, reply: str, *, permanent: bool = False, broken: bool = False,
                 unreachable: bool = False, fatal: bool = False):
        super().__init__(reply)
        self.reply = reply
        self.permanent = permanent
        self.broken = broken
        self.unreachable = unreachable
        self.fatal = fatal


class Connection(Protocol):
    async def send(self, message: EmailMessage, name: str) -> str:
        """Hand one message over; return the server's (or backend's) answer."""

    async def close(self) -> None: ...


class Backend(Protocol):
    concurrency: int

    def connection(self) -> Connection: ...


# --- smtp -------------------------------------------------------------------------

class SmtpBackend:
    def __init__(self, config: MailConfig):
        self.config = config
        self.concurrency = max(1, config.connections)

    def connection(self) -> "SmtpConnection":
        return SmtpConnection(self.config)


class SmtpConnection:
    """One aiosmtplib client, connected lazily and reconnected after a break."""

    def __init__(self, config: MailConfig):
        self.config = config
        self.client = None

    def _new_client(self):
        import aiosmtplib

        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.host, port=c.effective_port, timeout=c.timeout,
            use_tls=c.security == "tls", start_tls=c.security == "starttls",
            username=c.username if c.password else None,
            password=c.password if c.username else None,
        )

    async def _ensure(self) -> None:
        import aiosmtplib

        if self.client is not None and self.client.is_connected:
            return
        self.client = self._new_client()
        try:
            await self.client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise SendError(smtp_sentence(exc, self.config), fatal=True, broken=True,
                            unreachable=True) from exc
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise SendError(smtp_sentence(exc, self.config), broken=True, unreachable=True,
                            fatal=_is_setup_problem(exc)) from exc

    async def send(self, message: EmailMessage, name: str) -> str:
        import aiosmtplib

        await self._ensure()
        recipient = parseaddr(str(message["To"]))[1]
        try:
            _errors, reply = await self.client.sendmail(
                self.config.envelope_sender, [recipient], message_bytes(message))
            return f"250 {reply}"  # aiosmtplib drops the code; DATA succeeds only with 250
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise SendError(smtp_sentence(first, self.config, recipient),
                            permanent=first.code >= 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 421 means the server is closing the session: reconnect for the next one.
            raise SendError(smtp_sentence(exc, self.config, recipient), permanent=exc.code >= 500,
                            broken=exc.code == 421) from exc
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await self.close()
            raise SendError(smtp_sentence(exc, self.config, recipient, sending=True),
                            broken=True) from exc

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except Exception:  # a broken session: just drop it
            client.close()


# --- file -------------------------------------------------------------------------

class FileBackend:
    """Writes <name>.eml files; writing the same name twice replaces it (idempotent)."""

    concurrency = 1

    def __init__(self, config: MailConfig):
        self.folder = Path(config.dir)

    def connection(self) -> "FileConnection":
        return FileConnection(self.folder)


class FileConnection:
    def __init__(self, folder: Path):
        self.folder = folder

    async def send(self, message: EmailMessage, name: str) -> str:
        try:
            # Mail files hold what the database holds: private like it (0600 in a 0700 folder).
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = self.folder / f"{name}.eml"
            tmp = target.with_suffix(".eml.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)  # a .tmp left by an older version may be 0644
                fh.write(message_bytes(message))
            os.replace(tmp, target)
        except OSError as exc:
            raise SendError(f"无法把邮件写入文件夹 {self.folder}：{_os_reason(exc)}；请检查 [mail] dir。",
                            broken=True) from exc
        return f"已写入 {target}"

    async def close(self) -> None:
        return None


# --- console ----------------------------------------------------------------------

class ConsoleBackend:
    concurrency = 1

    def __init__(self, config: MailConfig, stream: TextIO | None = None):
        self.stream = stream

    def connection(self) -> "ConsoleConnection":
        return ConsoleConnection(self.stream or sys.stdout)


class ConsoleConnection:
    def __init__(self, stream: TextIO):
        self.stream = stream

    async def send(self, message: EmailMessage, name: str) -> str:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        print(f"收件人：{message['To']}\n主题：{message['Subject']}\n"
              f"Message-ID:{message['Message-ID']}\n\n{text.rstrip()}\n{'-' * 40}",
              file=self.stream)
        return "已输出到终端"

    async def close(self) -> None:
        return None


def make_backend(config: MailConfig) -> Backend:
    if config.backend == "smtp":
        return SmtpBackend(config)
    if config.backend == "console":
        return ConsoleBackend(config)
    return FileBackend(config)


# --- SMTP failures as sentences ---------------------------------------------------------

_CODE_MEANING = {  # what a reply code tells the office, in its words
    421: "服务器暂时不可用，正在关闭连接，稍后会重试",
    450: "收件人的邮箱暂时不可用，稍后会重试",
    451: "服务器处理时出错，稍后会重试",
    452: "服务器存储空间不足，稍后会重试",
    530: "服务器要求先登录；请在 [mail] 中设置 username 与密码",
    535: "用户名或密码不对；请检查 [mail] username 与密码设置",
    550: "收件人邮箱不存在或拒收；请核对收件人的邮箱",
    551: "收件人不在这台服务器上；请核对收件人的邮箱",
    552: "收件人邮箱空间已满或邮件过大",
    553: "邮件地址不被接受；请核对发件人和收件人的邮箱",
    554: "服务器拒收了这封邮件（可能不允许转发或判为垃圾邮件）；请联系邮件服务器管理员",
}
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def smtp_sentence(exc: BaseException, config: MailConfig, recipient: str | None = None,
                  sending: bool = False) -> str:
    """One whole Chinese sentence for an SMTP failure: where, what happened, what to do.

    The server's own words are English (or anything); the reply code, and its enhanced
    status when given (5.1.1), are kept: they are what an administrator looks up.
    """
    import aiosmtplib

    where = f"邮件服务器 {config.host}:{config.effective_port}"  # ascii-punct: host:port
    if isinstance(exc, (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientRefused)) \
            or (hasattr(exc, "code") and hasattr(exc, "message") and isinstance(getattr(exc, "code"), int)):
        code = int(exc.code)
        enhanced = _ENHANCED.match(str(exc.message))
        tag = f"{code} {enhanced.group(1)}" if enhanced else str(code)
        meaning = _CODE_MEANING.get(code) or ("服务器暂时无法处理，稍后会重试" if code < 500
                                              else "服务器拒绝了这封邮件；请联系邮件服务器管理员")
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or code in (530, 535):
            return f"{where} 拒绝了登录（{tag}）：{meaning}。"
        if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
            return f"{where} 不接受连接（{tag}）：{meaning}。"
        if recipient and code in (450, 550, 551, 553):
            return f"{where} 不接收发给 {recipient} 的邮件（{tag}）：{meaning}。"
        return f"{where} 答复 {tag}：{meaning}。"
    text = str(exc)
    if "STARTTLS extension not supported" in text:
        return f"{where} 不支持 STARTTLS：请把 [mail] security 设为 plain 或 tls。"
    if "AUTH extension is not supported" in text:
        return f"{where} 不支持登录（AUTH）：请去掉 [mail] username 与密码，或改用支持登录的端口。"
    if "already using TLS" in text:
        return f"{where} 的连接已经加密：请把 [mail] security 设为 tls，或改用 587 端口的 starttls。"
    if isinstance(exc, ssl.SSLError) or isinstance(getattr(exc, "__cause__", None), ssl.SSLError) \
            or "SSL" in text or "TLS" in text:
        return (f"与{where} 建立加密连接失败：请检查 [mail] security 与端口"
                "（465 端口用 tls,587 端口用 starttls，不加密的 25 端口用 plain）。")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, aiosmtplib.SMTPTimeoutError)):
        if sending:
            return f"向{where} 发送邮件时等待答复超时（{config.timeout:g} 秒），稍后会重试。"
        return (f"连接{where} 超时（{config.timeout:g} 秒）：请确认服务器地址和端口正确、"
                "网络可以到达，稍后会重试。")
    if sending or isinstance(exc, aiosmtplib.SMTPServerDisconnected) and not isinstance(
            exc, aiosmtplib.SMTPConnectError):
        return f"{where} 在发送过程中断开了连接，稍后会重试。"
    if "refused" in text.lower() or isinstance(getattr(exc, "__cause__", None), ConnectionRefusedError):
        return (f"无法连接{where}：连接被拒绝（服务器未启动或端口不对）；"
                "请检查 [mail] host 与 port，稍后会重试。")
    if "Name or service not known" in text or "nodename nor servname" in text \
            or isinstance(getattr(exc, "__cause__", None), socket.gaierror):
        return f"无法连接{where}：找不到这个主机名；请检查 [mail] host。"
    return f"无法连接{where}：网络错误（{type(exc).__name__}）；请检查 [mail] host 与 port，稍后会重试。"


def _is_setup_problem(exc: BaseException) -> bool:
    """Failures no retry can cure: the [mail] security setting does not match the server."""
    text = str(exc)
    return "STARTTLS extension not supported" in text or "AUTH extension is not supported" in text


def _os_reason(exc: OSError) -> str:
    """Why the system refused a file operation, in Chinese."""
    import errno

    if isinstance(exc, PermissionError):
        return "没有写入权限"
    return {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读", errno.ENOTDIR: "路径中有一段不是文件夹",
            errno.EDQUOT: "超出磁盘配额"}.get(exc.errno, f"系统错误（错误号 {exc.errno}）")
