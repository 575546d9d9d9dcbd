"""Generated files agree with the models: schemas/, labels.json, and the pydantic-free counter view's
copy of the category order and status names."""

from __future__ import annotations

import json
import shutil
import typing

from conftest import REPO_ROOT

from wuye.models import archive as models
from wuye.models import archive_meta


def test_committed_schemas_are_up_to_date(run, monkeypatch):
    # Run as a developer would, from the repository root; a failure means: run `wuye schema export`.
    monkeypatch.chdir(REPO_ROOT)
    r = run("schema", "export", "--check", "schemas", store=None)
    assert r.exit_code == 0, "out of date (run `wuye schema export`):\n" + r.stdout + r.stderr


def test_the_check_fails_on_a_stale_schema(run, tmp_path):
    copy = tmp_path / "schemas"
    shutil.copytree(REPO_ROOT / "schemas", copy)
    stale = copy / "repairs.schema.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace("维修记录", "修理记录"), encoding="utf-8")
    (copy / "contacts.schema.json").unlink()
    r = run("schema", "export", "--check", copy, store=None)
    assert r.exit_code == 1
    assert "repairs.schema.json" in r.stdout and "contacts.schema.json" in r.stdout
    assert "profile.schema.json" not in r.stdout
    assert "wuye schema export" in r.stderr


def test_every_category_has_a_schema_with_its_chinese_title():
    for c in models.CATEGORIES:
        schema = json.loads((REPO_ROOT / "schemas" / f"{c.key}.schema.json").read_text(encoding="utf-8"))
        assert schema["title"] == f"{c.title} / {c.title_en}"


def test_category_order_agrees_with_the_models():
    assert archive_meta.CATEGORY_ORDER == tuple(c.key for c in models.CATEGORIES)
    assert [c.number for c in models.CATEGORIES] == list(range(1, 13))


def test_status_names_agree_with_the_models():
    assert set(archive_meta.TENANT_STATUS) == set(typing.get_args(models.TenantStatus))
    assert {k: zh for k, (zh, _) in archive_meta.TENANT_STATUS.items()} == models.TENANT_STATUS_ZH


def test_skipped_columns_are_fields_of_entries():
    fields = set(models.Repair.model_fields) | set(models.Supplement.model_fields) | set(models.Payment.model_fields)
    assert archive_meta.SKIP_COLUMNS <= fields


def test_labels_cover_every_field_of_every_category():
    from wuye.admin.schema import load_labels

    labels = load_labels()
    assert list(labels) == list(archive_meta.CATEGORY_ORDER)
    for c in models.CATEGORIES:
        assert labels[c.key][""] == [c.title, c.title_en]
        assert set(labels[c.key]) - {"", "@values"} == set(models.entry_model(c).model_fields)


def test_value_labels_name_every_choice_of_the_status_fields():
    # The counter shows 已受理 rather than "open": each status value needs its Chinese label.
    import typing

    from wuye.admin.schema import load_labels

    labels = load_labels()
    for c in models.CATEGORIES:
        f = models.entry_model(c).model_fields.get("status")
        if f is None:
            continue
        values = set(typing.get_args(f.annotation))
        assert set(labels[c.key]["@values"]["status"]) == values, c.key
    assert labels["profile"]["@values"]["status"]["moved_out"] == "已迁出"
    assert labels["complaints"]["@values"]["status"]["open"] == "已受理"


def test_entry_prefixes_are_distinct():
    prefixes = [c.prefix for c in models.CATEGORIES if c.is_list]
    assert len(prefixes) == len(set(prefixes)) == 10
    assert all(not c.prefix for c in models.CATEGORIES if not c.is_list)
