"""``/users/{u}/outlook/masterCategories``: the master category list the EWS side keeps.

Outlook (and so the EWS fake) keeps the list as the ``CategoryList`` user configuration on the Calendar
folder (``connector/fake/userconfig.py``); Graph serves the same list, so a category added through
either protocol is seen through the other. Colours: Outlook's index ``n`` is Graph's ``presetN``,
``-1`` is ``none``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lxml import etree

from connector.fake.graph.context import Ctx
from connector.fake.graph.odata import check_options
from connector.fake.graph.replies import GraphError, Reply, bad_request
from connector.fake.userconfig import (
    CATEGORY_LIST,
    CATEGORY_LIST_FOLDER,
    CATEGORY_LIST_NS,
    UserConfig,
    category_list_xml,
)

_CAT = f"{{{CATEGORY_LIST_NS}}}category"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
MAX_PRESET = 24


def color_name(index: int) -> str:
    return f"preset{index}" if 0 <= index <= MAX_PRESET else "none"


def color_index(name: str) -> int:
    if name == "none":
        return -1
    if name.startswith("preset") and name[6:].isdigit() and 0 <= int(name[6:]) <= MAX_PRESET:
        return int(name[6:])
    raise bad_request(f"Invalid color '{name}': expected 'none' or 'preset0'..'preset{MAX_PRESET}'.")


def _category_json(el: etree._Element) -> dict[str, Any]:
    try:
        color = int(el.get("color", "-1"))
    except ValueError:
        color = -1
    return {
        "id": el.get("guid", "").strip("{}").lower(),
        "displayName": el.get("name", ""),
        "color": color_name(color),
    }


def _document(ctx: Ctx) -> tuple[UserConfig | None, etree._Element | None]:
    cfg = ctx.server.exchange.user_configs.get(ctx.mb.number, CATEGORY_LIST_FOLDER, CATEGORY_LIST)
    if cfg is None or not cfg.xml_data:
        return cfg, None
    try:
        return cfg, etree.fromstring(cfg.xml_data, _PARSER)
    except etree.XMLSyntaxError:
        return cfg, None


def handle(ctx: Ctx) -> Reply:
    if ctx.req.method == "GET":
        check_options(ctx.req.query, frozenset(), "outlookCategory")
        _, root = _document(ctx)
        cats = [] if root is None else [_category_json(el) for el in root.iter(_CAT)]
        return Reply(200, {"@odata.context": f"{ctx.server.base_url}/$metadata#outlookCategory", "value": cats})
    data = ctx.json_object()
    unknown = sorted(k for k in data if k not in ("displayName", "color") and not k.startswith("@odata."))
    if unknown:  # an outlookCategory has no such property: refused, not dropped
        raise bad_request(f"The property '{unknown[0]}' does not exist on type 'microsoft.graph.outlookCategory'.")
    name = data.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("'displayName' is required.")
    color = data.get("color", "none")
    if not isinstance(color, str):
        raise bad_request("'color' must be a string.")
    index = color_index(color)
    mb = ctx.mb
    with mb.lock:
        cfg, root = _document(ctx)
        if root is None:
            root = etree.fromstring(category_list_xml((), mb.address), _PARSER)
        if any(el.get("name", "").casefold() == name.casefold() for el in root.iter(_CAT)):
            raise GraphError(409, "Conflict", f"A category with the display name '{name}' already exists.")
        new = etree.fromstring(category_list_xml([(name, index)], mb.address), _PARSER)[0]
        root.append(new)
        xml = etree.tostring(root, xml_declaration=True, encoding="utf-8")
        ctx.server.exchange.user_configs.put(
            mb.number,
            CATEGORY_LIST_FOLDER,
            CATEGORY_LIST,
            replace(cfg, xml_data=xml) if cfg is not None else UserConfig(xml_data=xml),
        )
    ctx.server.stats.write(ctx.address, "create")
    return Reply(201, _category_json(new))
