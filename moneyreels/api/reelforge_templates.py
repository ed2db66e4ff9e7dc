"""Render templates under /v1/templates: manifests with `{{FIELD}}` placeholders, kept per API key.

`POST /v1/videos/render` with `template_id` and `merge` renders one (see `from_template`);
docs/templates.md describes them.
"""

import time

from flask import Blueprint

from .. import merge_fields
from ..db import Template, database
from ..errors import Conflict, InvalidRequest, NotFound
from ..manifest import Manifest
from .auth import authenticate, current_owner
from .contract import INVALID, contract
from .inputs import parse_body
from .limits import limit_requests
from .template_models import (TemplateBody, TemplateDeleted, TemplateDetail, TemplateList, TemplateRead, TemplateRef,
                              TemplateRender, TemplateSaved, TemplateSummary, Removed)
from .unknown_keys import ignored, unknown_keys

bp = Blueprint("reelforge_templates", __name__, url_prefix="/v1/templates")
bp.before_request(authenticate)
bp.before_request(limit_requests("reelforge", lambda s: (s.rate_limit, s.rate_window)))

MAX_TEMPLATES = 1000  # per API key
UNKNOWN_TEMPLATE = {404: "No such template (or another key's)."}
FULL = {409: f"This key already keeps {MAX_TEMPLATES} templates: delete one first."}


def find(template_id, owner) -> Template:
    """The owner's template, or NotFound (another key's template is not found either)."""
    template = Template.get_or_none((Template.id == str(template_id)) & (Template.owner == owner))
    if template is None:
        raise NotFound("Template not found.", code="template_not_found", details={"template_id": str(template_id)})
    return template


def checked(body: TemplateBody) -> tuple[list[str], list[dict]]:
    """The template's field names and its unknown-key warnings, or a 400 naming what is wrong."""
    fields = merge_fields.check_template(body.manifest)
    return fields, unknown_keys(Manifest, body.manifest, path="manifest")


def saved(template, warnings) -> TemplateSaved:
    return TemplateSaved(success=True, data=TemplateRef(id=template.id, name=template.name, fields=template.fields),
                         warnings=warnings or None)


def summary(template) -> dict:
    return {"id": template.id, "name": template.name, "fields": template.fields,
            "created_at": template.created_at, "updated_at": template.updated_at}


@bp.post("")
@contract("Store a render template with {{FIELD}} merge fields",
          {201: ("Stored; `fields` names its merge fields.", TemplateSaved)}, errors={**INVALID, **FULL},
          body=(TemplateBody,))
def create():
    body = parse_body(TemplateBody)
    fields, warnings = checked(body)
    owner = current_owner()
    with database.atomic():
        if Template.select().where(Template.owner == owner).count() >= MAX_TEMPLATES:
            raise Conflict(FULL[409], code="too_many_templates", details={"limit": MAX_TEMPLATES})
        template = Template.create(owner=owner, name=body.name, manifest=body.manifest, fields=fields)
    return saved(template, warnings), 201


@bp.get("")
@contract("List this key's render templates, newest first", {200: ("The templates, without their manifests.",
                                                                   TemplateList)})
def index():
    templates = Template.select().where(Template.owner == current_owner()).order_by(Template.created_at.desc())
    return TemplateList(success=True, data=[TemplateSummary(**summary(t)) for t in templates])


@bp.get("/<template_id>")
@contract("Read a render template", {200: ("The template and its manifest.", TemplateRead)}, errors=UNKNOWN_TEMPLATE)
def read(template_id):
    template = find(template_id, current_owner())
    return TemplateRead(success=True, data=TemplateDetail(**summary(template), manifest=template.manifest))


@bp.put("/<template_id>")
@contract("Replace a render template's name and manifest", {200: ("Replaced.", TemplateSaved)},
          errors={**INVALID, **UNKNOWN_TEMPLATE}, body=(TemplateBody,),
          description="Renders already made from it keep the manifest they were made with.")
def replace(template_id):
    body = parse_body(TemplateBody)
    fields, warnings = checked(body)
    template = find(template_id, current_owner())
    template.name, template.manifest, template.fields, template.updated_at = body.name, body.manifest, fields, time.time()
    template.save()
    return saved(template, warnings)


@bp.delete("/<template_id>")
@contract("Delete a render template", {200: ("Deleted.", TemplateDeleted)}, errors=UNKNOWN_TEMPLATE,
          description="Renders made from it are kept: each job holds its own merged manifest.")
def delete(template_id):
    template = find(template_id, current_owner())
    template.delete_instance()
    return TemplateDeleted(success=True, data=Removed(id=template.id, deleted=True))


def from_template(body: dict, owner: str, delivery: tuple) -> tuple[dict, dict, list[dict]]:
    """The render body a template render stands for: (merged manifest and the `delivery` fields, places, warnings).

    `places` maps each manifest field a value was merged into to its merge fields. A 400 names a
    missing field or manifest keys sent beside `template_id`; a 404 an unknown template.
    """
    beside = [key for key in body if key in Manifest.model_fields]
    if beside:
        raise InvalidRequest(f"{beside[0]}: a template render takes its manifest from the template; "
                             "send values in `merge` instead", code="validation_error",
                             details={"errors": [{"field": key, "message": "not allowed beside template_id"}
                                                 for key in beside]})
    request = parse_body(TemplateRender, body)
    template = find(request.template_id, owner)
    merged = merge_fields.merge(template.manifest, request.merge)
    warnings = [ignored(f"merge.{key}", key, template.fields) for key in request.merge if key not in template.fields]
    warnings += [ignored(key, key, [*TemplateRender.model_fields, *delivery]) for key in body
                 if key not in TemplateRender.model_fields and key not in delivery]
    source = {**merged, **{key: body[key] for key in delivery if key in body}}
    return source, merge_fields.places(template.manifest), warnings

