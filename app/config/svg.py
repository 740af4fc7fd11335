"""Sanitizing a merchant's SVG logo: only drawing is left, nothing that runs or fetches.

The file is parsed by the standard library's expat through ``defusedxml`` (no entity
declarations, no external DTDs), and the element tree is written out again from an
allow-list: SVG drawing elements in the SVG namespace and their attributes, minus
event handlers (``on*``), references that leave the document (``href`` / ``xlink:href``
not starting with ``#``; ``url(…)`` not starting with ``#``; ``@import``), scripts,
``foreignObject``, animations (they can rewrite a link's target), and elements of other
namespaces. ``<image>`` keeps only an embedded raster (``data:image/png``, ``jpeg``,
``gif``, ``webp``). Comments, processing instructions and the DOCTYPE are never written
out. The browser then gets it as ``image/svg+xml`` under ``Content-Security-Policy:
sandbox`` as a second, independent defence.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
XHTML = "http://www.w3.org/1999/xhtml"

# fmt: off
ELEMENTS = frozenset((
    "svg", "g", "defs", "title", "desc", "symbol", "use", "switch", "path", "rect", "circle",
    "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath", "linearGradient",
    "radialGradient", "stop", "clipPath", "mask", "pattern", "marker", "image", "style",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
    "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
    "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur",
    "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
))
# fmt: on
"""Elements kept (in the SVG namespace); any other is removed with what it holds."""

UNWRAPPED = frozenset({"a"})
"""Elements replaced by a group: their drawing stays, their link goes."""

SILENT = frozenset({"metadata"})
"""Removed without a word: editors write them, they never show."""

REFERENCING = frozenset({"use", "image", "feImage"})
"""Elements that are nothing without their ``href``: removed when it is refused."""

_EMBEDDED_RASTER = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")
_URL = re.compile(r"url\(\s*(['\"]?)\s*([^)'\"]*)", re.IGNORECASE)
_CSS_FETCHES = re.compile(r"@import|image-set\(|expression\(|javascript:|\\", re.IGNORECASE)


MAX_DEPTH = 64


class SvgRefused(ValueError):
    """Not an SVG image at all (the message says why)."""


@dataclass(frozen=True)
class CleanSvg:
    body: bytes  # the sanitized document, UTF-8
    removed: tuple[str, ...]  # what the sanitizer took out, for `portico check`


def sanitize_svg(data: bytes) -> CleanSvg:
    """The SVG in ``data`` with everything but drawing removed; :class:`SvgRefused` when
    ``data`` is not a well-formed SVG document."""
    try:
        root = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException:
        raise SvgRefused("the XML declares entities or external resources") from None
    except (ET.ParseError, ValueError) as error:
        raise SvgRefused(f"not well-formed XML: {error}") from None
    if root.tag != f"{{{SVG}}}svg":
        raise SvgRefused(f'its root element is not <svg xmlns="{SVG}">')
    removed: list[str] = []
    _clean(root, removed, 1)
    out: list[str] = []
    _write(root, out, root=True)
    return CleanSvg("".join(out).encode("utf-8"), tuple(dict.fromkeys(removed)))


def _local(tag: str) -> tuple[str, str]:
    """``{namespace}name`` → ``(namespace, name)``."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _clean(element: ET.Element, removed: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SvgRefused(f"elements nested deeper than {MAX_DEPTH} levels")
    _clean_attributes(element, removed)
    if _local(element.tag)[1] == "style":
        text = element.text or ""
        if _css_problem(text):
            element.text = ""
            removed.append(f"<style> with {_css_problem(text)}")
    for child in list(element):
        if not isinstance(child.tag, str):  # comments, processing instructions
            element.remove(child)
            continue
        namespace, name = _local(child.tag)
        if namespace == SVG and name in UNWRAPPED:
            child.tag = f"{{{SVG}}}g"
            removed.append(f"link <{name}>")
        elif namespace != SVG or name not in ELEMENTS:
            element.remove(child)
            # Other namespaces hold an editor's own data (Inkscape, Sodipodi, RDF): not shown.
            if name not in SILENT and namespace in (SVG, XHTML, ""):
                removed.append(f"<{name}>")
            continue
        _clean(child, removed, depth + 1)
        if name in REFERENCING and not _href(child):
            element.remove(child)
            removed.append(f"<{name}> of something outside the file")


def _write(element: ET.Element, out: list[str], root: bool = False) -> None:
    """The cleaned tree as text: SVG elements unprefixed, ``xmlns`` on the root only."""
    _, name = _local(element.tag)
    out.append(f"<{name}")
    if root:
        out.append(f' xmlns="{SVG}"')
    for key, value in element.attrib.items():
        namespace, local = _local(key)
        out.append(f' {"xml:" if namespace == XML else ""}{local}="{escape(value, _ATTRIBUTE)}"')
    out.append(">")
    out.append(escape(element.text or ""))
    for child in element:
        _write(child, out)
        out.append(escape(child.tail or ""))
    out.append(f"</{name}>")


_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _href(element: ET.Element) -> str:
    return element.get("href") or ""


def _clean_attributes(element: ET.Element, removed: list[str]) -> None:
    _, element_name = _local(element.tag)
    for key in list(element.attrib):
        value = element.attrib.pop(key)
        namespace, name = _local(key)
        if namespace == XLINK and name == "href":
            namespace = ""  # SVG 2 spelling: plain href
        if namespace == XML and name in ("space", "lang"):
            element.set(key, value)
            continue
        if namespace:
            if namespace in (XHTML, XML):
                removed.append(f"attribute {name}")
            continue  # an editor's own attributes
        if name.lower().startswith("on"):
            removed.append(f"event handler attribute {name}")
        elif name == "href":
            if _allowed_href(element_name, value):
                element.set("href", value)
            else:
                removed.append(f"external reference {name}={_shorten(value)}")
        elif name == "style" and _css_problem(value):
            removed.append(f"style attribute with {_css_problem(value)}")
        elif _leaves_document(value):
            removed.append(f"external reference {name}={_shorten(value)}")
        else:
            element.set(key, value)


def _allowed_href(element: str, value: str) -> bool:
    target = value.strip()
    if target.startswith("#"):
        return True
    return element in ("image", "feImage") and _EMBEDDED_RASTER.fullmatch(target) is not None


def _leaves_document(value: str) -> bool:
    """A value referring to anything but an element of this document (``url(#id)``)."""
    lowered = value.lower()
    if "javascript:" in lowered:
        return True
    return any(not target.strip().startswith("#") for _, target in _URL.findall(value))


def _css_problem(css: str) -> str | None:
    if match := _CSS_FETCHES.search(css):
        return match.group(0) if match.group(0) != "\\" else "CSS escapes"
    if _leaves_document(css):
        return "external url(…)"
    return None


def _shorten(value: str) -> str:
    value = " ".join(value.split())
    return repr(value if len(value) <= 40 else value[:37] + "...")
