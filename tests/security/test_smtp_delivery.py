"""Issue 20, item 11 (e-mail): alerts go over SMTP with STARTTLS or TLS from the first byte,
the server's certificate checked, and a login only once TLS is up. Real servers (aiosmtpd) on
loopback with a certificate made here; the client is Python's own `smtplib`. A server that
offers no STARTTLS, or a certificate nobody vouches for, gets no message and no password, and
the attempt fails with a sentence; the password never appears in a sentence or a repr."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lucid.errors import ConfigurationError
from lucid.notifications.channels import AlertMessage, notifier_for
from lucid.ports.notifier import NotDelivered
from lucid.settings import AlertChannel, default_config, load_settings

pytest.importorskip("aiosmtpd")

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key: (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lucid test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class SmtpServer:
    port: int
    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    """(mechanism, user, whether TLS was up) for every AUTH the server saw."""


@contextmanager
def smtp_server(
    certificate: tuple[Path, Path] | None, *, implicit_tls: bool = False
) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that accepts AUTH PLAIN/LOGIN even without TLS (so the
    test proves the client's rule, not the server's), with STARTTLS when given a certificate,
    or TLS from the first byte with `implicit_tls`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult, LoginPassword

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = SmtpServer(port)

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            server.messages.append(message)

    def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        tls = smtp.transport.get_extra_info("ssl_object") is not None
        server.logins.append((mechanism, data.login.decode(), tls))
        return AuthResult(success=data.password.decode() == PASSWORD, handled=False)

    context = None
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
    controller = Controller(
        Keep(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
        **({"ssl_context": context} if implicit_tls else {"tls_context": context}),
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


ALERT = AlertMessage("a1", "churn", "critical", "data", "PSI 0.4 on tenure", [], [], "r1")


def channel(server: SmtpServer, **settings: Any) -> AlertChannel:
    return AlertChannel(
        name="mail",
        kind="email",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        sender="lucid@example.com",
        recipients=("data@example.com",),
        timeout_seconds=5,
        **settings,
    )


def test_the_login_comes_after_starttls_and_the_certificate_is_checked(
    certificate: tuple[Path, Path],
) -> None:
    with smtp_server(certificate) as server:
        mail = channel(
            server, smtp_user="alerts", smtp_password=PASSWORD, smtp_ca_file=certificate[0]
        )
        assert notifier_for(mail).send(ALERT) == "sent to data@example.com"
        assert [(user, tls) for _, user, tls in server.logins] == [("alerts", True)]
        [message] = server.messages
        assert message["Subject"].startswith("[lucid] CRITICAL churn")
        # The same server, but a certificate the channel has no authority for.
        untrusted = channel(server, smtp_user="alerts", smtp_password=PASSWORD)
        with pytest.raises(NotDelivered, match="certificate verify failed") as refused:
            notifier_for(untrusted).send(ALERT)
        assert PASSWORD not in str(refused.value)
        assert len(server.logins) == 1 and len(server.messages) == 1


def test_tls_from_the_first_byte_with_the_port_given(certificate: tuple[Path, Path]) -> None:
    with smtp_server(certificate, implicit_tls=True) as server:
        mail = channel(
            server,
            smtp_security="ssl",
            smtp_user="alerts",
            smtp_password=PASSWORD,
            smtp_ca_file=certificate[0],
        )
        assert notifier_for(mail).send(ALERT) == "sent to data@example.com"
        assert [(user, tls) for _, user, tls in server.logins] == [("alerts", True)]
        assert len(server.messages) == 1


def test_a_server_without_starttls_gets_neither_the_message_nor_the_password() -> None:
    with smtp_server(None) as server:
        mail = channel(server, smtp_user="alerts", smtp_password=PASSWORD)
        with pytest.raises(NotDelivered) as refused:
            notifier_for(mail).send(ALERT)
        assert str(refused.value) == (
            f"smtp_security: the SMTP server 127.0.0.1:{server.port} does not offer STARTTLS, "
            "which the channel mail requires, so nothing was sent (no message, no password); "
            "use smtp_security: ssl for a server with TLS from the first byte"
        )
        assert server.logins == [] and server.messages == []
        # Without a login either: STARTTLS is required unless the channel says `none`.
        with pytest.raises(NotDelivered, match=r"^smtp_security: .* does not offer STARTTLS"):
            notifier_for(channel(server)).send(ALERT)
        assert server.messages == []
        notifier_for(channel(server, smtp_security="none")).send(ALERT)
        assert len(server.messages) == 1 and server.logins == []


def test_a_wrong_password_fails_without_showing_it(certificate: tuple[Path, Path]) -> None:
    with smtp_server(certificate) as server:
        wrong = "not the password at all"
        mail = channel(server, smtp_user="alerts", smtp_password=wrong, smtp_ca_file=certificate[0])
        with pytest.raises(NotDelivered, match=r"^SMTPAuthenticationError: ") as refused:
            notifier_for(mail).send(ALERT)
        assert wrong not in str(refused.value) and wrong not in repr(mail)
        assert wrong not in repr(notifier_for(mail))
        assert server.messages == [] and server.logins  # smtplib tries PLAIN, then LOGIN
        assert all(tls for *_, tls in server.logins)


def write_project(folder: Path, mail: dict[str, Any]) -> Path:
    folder.mkdir()
    config = {**default_config("shop"), "alerts": {"channels": [mail]}}
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    return folder


MAIL = {
    "name": "mail",
    "kind": "email",
    "smtp_host": "smtp.example.com",
    "sender": "lucid@example.com",
    "recipients": ["data@example.com"],
}


def test_the_password_comes_from_the_environment_never_from_the_file(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "env", {**MAIL, "smtp_user": "alerts"})
    settings = load_settings(folder, {"LUCID_SMTP_PASSWORD": PASSWORD})
    [mail] = settings.alerts.channels
    assert mail.smtp_password is not None and mail.smtp_password.get_secret_value() == PASSWORD
    assert (mail.smtp_security, mail.smtp_port_or_default) == ("starttls", 587)
    assert PASSWORD not in repr(settings) and PASSWORD not in settings.model_dump_json()
    named = write_project(tmp_path / "named", {**MAIL, "smtp_user": "a", "smtp_password_env": "P"})
    [mail] = load_settings(named, {"P": PASSWORD}).alerts.channels
    assert mail.smtp_password is not None and mail.smtp_password.get_secret_value() == PASSWORD
    # Without the variable, the attempt fails with a sentence naming it; nothing is sent.
    [unset] = load_settings(named, {}).alerts.channels
    with pytest.raises(NotDelivered, match=r"^smtp_password: .* environment variable P "):
        notifier_for(unset).send(ALERT)

    in_file = write_project(tmp_path / "file", {**MAIL, "smtp_password": PASSWORD})
    with pytest.raises(ConfigurationError, match=r"smtp_password .* is refused") as refused:
        load_settings(in_file, {})
    assert PASSWORD not in str(refused.value)


def test_a_webhook_signing_secret_comes_from_the_environment_too(tmp_path: Path) -> None:
    hook = {"name": "ops", "kind": "webhook", "url": "https://ops.example.com/lucid"}
    folder = write_project(tmp_path / "env", {**hook, "signing_secret_env": "OPS_SECRET"})
    [channel] = load_settings(folder, {"OPS_SECRET": "whsec_c2VjcmV0"}).alerts.channels
    assert channel.signing_secret is not None
    assert channel.signing_secret.get_secret_value() == "whsec_c2VjcmV0"
    in_file = write_project(tmp_path / "file", {**hook, "signing_secret": "whsec_c2VjcmV0"})
    with pytest.raises(ConfigurationError, match=r"signing_secret .* is refused") as refused:
        load_settings(in_file, {})
    assert "whsec_c2VjcmV0" not in str(refused.value)


def test_credentials_without_tls_are_refused_by_the_settings(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "plain", {**MAIL, "smtp_user": "alerts", "smtp_security": "none"}
    )
    with pytest.raises(ConfigurationError) as refused:
        load_settings(folder, {"LUCID_SMTP_PASSWORD": PASSWORD})
    assert "smtp_user: Lucid logs in to an SMTP server over TLS only" in str(refused.value)
    assert PASSWORD not in str(refused.value)
