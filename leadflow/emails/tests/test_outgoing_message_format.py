"""The bytes the outbox writes itself (emails.mime) are a valid MIME message: what a
reader's mail program gets back is what was rendered, whatever the characters."""

from email import message_from_bytes, policy

import pytest

from leadflow.emails.mime import build

HTML = "<p>Bonjour Zoë,</p>" + "".join(f'<a href="https://ex.com/{i}">lien {i}</a>'
                                        for i in range(50))
TEXT = "Bonjour Zoë,\n.a line starting with a dot\n" + "long " * 400 + "\nend\n"


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def test_subject_names_and_bodies_come_back_as_written():
    data = build(message_id="<1.2@send.example>", from_=("Équipe, Leadflow", "a@send.example"),
                 to="zoe@example.com", subject="Ça va, Zoë ?\r\nBcc: x@evil.example",
                 text=TEXT, html=HTML,
                 headers={"List-Unsubscribe": "<https://send.example/u/abc>",
                          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    message = parse(data)

    assert message["From"].addresses[0].display_name == "Équipe, Leadflow"
    assert message["Subject"] == "Ça va, Zoë ? Bcc: x@evil.example"  # one line, no header
    assert message["Bcc"] is None
    assert message["Message-ID"] == "<1.2@send.example>"
    assert message["List-Unsubscribe"] == "<https://send.example/u/abc>"
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain == TEXT
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only


@pytest.mark.parametrize("html", ["", "<p>x</p>"])
def test_a_text_only_or_alternative_message_is_well_formed(html):
    message = parse(build(message_id="<3@x>", from_="a@send.example", to="b@example.com",
                          subject="Hi", text="Hello", html=html))

    assert message.get_content_type() == ("multipart/alternative" if html else "text/plain")
    assert message.get_body(("plain",)).get_content().strip() == "Hello"
