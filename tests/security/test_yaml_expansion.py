"""Issue 15, finding 7: a small file of repeated aliases cannot become hundreds of megabytes.

The attack: a 121 KB merchant file whose FAQ answers all alias one long text passed
``portico check`` (few aliases, few values); one help-page request then built a 200 MB
answer and the worker grew to 3.5 GB. The loader bounds the text of the *expanded*
document, and refuses the file with the position of the alias where it overflows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from app.cli import main
from app.config.yamlsource import MAX_FILE_BYTES, MAX_TEXT, YamlError, parse_yaml

ANSWER = "<p>" + "Lorem ipsum dolor sit amet. " * 2_200 + "</p>"  # ~62 KB, written once
ENTRIES = 3_000  # each one line of ~40 bytes, each an alias to the whole answer


def bomb(source: str) -> str:
    """acme's file with its FAQ replaced by ENTRIES questions sharing one anchored answer."""
    head, _, rest = source.partition("  faq:\n")
    _, _, tail = rest.partition("\nwebhooks:")
    faq = ["  faq:\n", f'    - {{question: "Q0", answer: &answer "{ANSWER}"}}\n']
    faq += [f'    - {{question: "Q{n}", answer: *answer}}\n' for n in range(1, ENTRIES)]
    return head + "".join(faq) + "\nwebhooks:" + tail


@pytest.fixture
def config_dir(config_dir: Path) -> Path:
    path = config_dir / "merchants" / "acme.yaml"
    path.write_text(bomb(path.read_text(encoding="utf-8")), encoding="utf-8")
    return config_dir


def test_the_file_is_small_but_would_expand_to_hundreds_of_megabytes(merchants: Path) -> None:
    size = (merchants / "acme.yaml").stat().st_size
    assert 110_000 < size < 200_000 < MAX_FILE_BYTES  # small enough for the size limit
    assert len(ANSWER) * ENTRIES > 150_000_000 > 100 * MAX_TEXT


def test_check_refuses_it_at_the_alias_where_it_overflows(
    runner: CliRunner, merchants: Path
) -> None:
    path = merchants / "acme.yaml"
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    [problem] = [line for line in result.output.splitlines() if ": error: " in line]
    assert problem.endswith(
        "error: the document expands to more than 1024 KiB of text: aliases repeat a text "
        "each time they are used; write each text out once"
    )
    line, column = (int(part) for part in problem.removeprefix(f"{path}:").split(":")[:2])
    assert lines[line - 1][column - 1 :].startswith("*answer")  # the alias, not the anchor
    # the answers before it fit (with the rest of the file's text): about MAX_TEXT's worth
    number = int(lines[line - 1].split('question: "Q')[1].split('"')[0])
    assert MAX_TEXT // len(ANSWER) - 2 <= number <= MAX_TEXT // len(ANSWER)


def test_the_merchant_is_offline_instead_of_building_the_page(client: FlaskClient) -> None:
    for url in ("/acme/portal?lang=en", "/acme/order?lang=en"):
        response = client.get(url)
        assert response.status_code == 503
        assert len(response.get_data()) < 100_000
    assert client.get("/stromma/order").status_code == 200  # the other tenant is untouched


def test_nested_aliases_are_bounded_the_same_way() -> None:
    text = 'a: &a ["' + "x" * 1000 + '"]\n'
    text += "b: &b [" + ", ".join(["*a"] * 40) + "]\n"
    text += "c: [" + ", ".join(["*b"] * 40) + "]\n"  # 1.6 MB of text from 1.3 KB
    with pytest.raises(YamlError) as refused:
        parse_yaml(text)
    assert refused.value.problem.position.line == 3
    assert "expands to more than" in refused.value.problem.message
