"""Email alerts reach a real (local) SMTP server: plain, STARTTLS with login, temporary failures retried."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest

from brandcrew.notify import DeliveryError, EmailChannel, RetryPolicy, build_channel
from tests.notify.conftest import Inbox, free_port, sample

FAST = RetryPolicy(attempts=3, base_s=0.0)


async def test_alert_email_arrives_with_subject_body_and_headers(smtp_server: Inbox) -> None:
    channel = build_channel(
        "email",
        {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "sender": "alerts@northwind.example",
            "to": "ana@northwind.example, ops@northwind.example",
        },
        retry=FAST,
    )
    receipt = await channel.send(sample())
    assert receipt == "accepted by 2/2 recipients"
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "alerts@northwind.example"
    assert envelope.rcpt_tos == ["ana@northwind.example", "ops@northwind.example"]
    (message,) = smtp_server.messages()
    assert (
        message["Subject"].strip()
        == "[brandcrew] [HIGH] Northwind: Crisis: mention spike with a sentiment drop"
    )
    assert message["X-Brandcrew-Alert"] == "al_0123456789abcdef"
    body = message.get_content()  # type: ignore[attr-defined]
    assert "volume spike and sentiment drop" in body and "Topic: data leak" in body


async def test_a_temporary_smtp_failure_is_retried_and_a_permanent_one_is_not(smtp_server: Inbox) -> None:
    channel = EmailChannel(
        host=smtp_server.host, port=smtp_server.port, sender="a@x.example", to=["b@x.example"], retry=FAST
    )
    smtp_server.replies = ["451 4.3.0 Mail server temporarily rejected message"]
    assert await channel.send(sample()) == "accepted by 1/1 recipients"
    assert len(smtp_server.envelopes) == 1

    smtp_server.replies = ["554 5.7.1 Message rejected"]
    with pytest.raises(DeliveryError) as info:
        await channel.send(sample())
    assert not info.value.retryable and info.value.status_code == 554
    assert len(smtp_server.envelopes) == 1 and smtp_server.replies == []


async def test_an_unreachable_server_is_a_retryable_failure() -> None:
    channel = EmailChannel(
        host="127.0.0.1", port=free_port(), sender="a@x.example", to=["b@x.example"], retry=FAST, timeout_s=2
    )
    with pytest.raises(DeliveryError) as info:
        await channel.send(sample())
    assert info.value.retryable and info.value.channel == "email"


def _self_signed(tmp_path: Path) -> tuple[Path, Path, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
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
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, pem


async def test_starttls_and_login(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key, pem = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    inbox = Inbox(host="127.0.0.1", port=free_port())
    from tests.notify.conftest import _Handler

    controller = Controller(
        _Handler(inbox),
        hostname=inbox.host,
        port=inbox.port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client_tls = ssl.create_default_context(cadata=pem.decode())
        channel = EmailChannel(
            host=inbox.host,
            port=inbox.port,
            sender="alerts@northwind.example",
            to=["ana@northwind.example"],
            username="alerts",
            password="s3cret",
            starttls=True,
            ssl_context=client_tls,
            retry=FAST,
        )
        assert await channel.send(sample()) == "accepted by 1/1 recipients"
        assert logins == [(b"alerts", b"s3cret")] and len(inbox.envelopes) == 1

    finally:
        controller.stop()


async def test_a_channel_set_to_people_also_mails_the_people_a_notice_is_for(smtp_server: Inbox) -> None:
    settings = {"host": smtp_server.host, "port": smtp_server.port, "sender": "alerts@northwind.example"}
    notice = sample(people=("lead@northwind.example", "ana@northwind.example"))
    plain = build_channel("email", {**settings, "to": "ana@northwind.example"}, retry=FAST)
    assert await plain.send(notice) == "accepted by 1/1 recipients"  # people only when asked for
    to_people = build_channel(
        "email", {**settings, "to": "ana@northwind.example", "to_people": True}, retry=FAST
    )
    assert await to_people.send(notice) == "accepted by 2/2 recipients"
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [
        ["ana@northwind.example"],
        ["ana@northwind.example", "lead@northwind.example"],  # once each, the channel's first
    ]
