"""Footnotes in a card show their text, wherever in the note the definition stands."""

from __future__ import annotations

from pathlib import Path

from helpers import memo, write_vault

from memo2anki.cards.convert import convert


def test_footnotes_defined_anywhere_in_the_note(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "2025-01-01.md": memo(
                "**etcd**\nRaft를 쓴다[^raft]. 인라인도^[바로 여기].",
                "**Pod**\n파드[^pod]",
            )
            + "\n# 참고\n[^raft]: 합의 알고리즘\n[^pod]: 가장 작은 배포 단위\n"
        },
    )
    result = convert([vault])
    etcd, pod = result.cards
    assert '<li id="fn1" class="footnote-item"><p>합의 알고리즘' in etcd.back_html
    assert "바로 여기" in etcd.back_html and "가장 작은 배포 단위" not in etcd.back_html
    assert "가장 작은 배포 단위" in pod.back_html and "합의 알고리즘" not in pod.back_html
    assert "[^" not in etcd.back_html + pod.back_html
    assert result.diagnostics == ()


def test_a_definition_before_the_memo_section(tmp_path: Path) -> None:
    note = "# 오전\n[^k8s]: Kubernetes의 줄임말\n\n" + memo("**Pod**\n파드는 k8s[^k8s]의 단위")
    vault = write_vault(tmp_path / "v", {"2025-01-01.md": note})
    (card,) = convert([vault]).cards
    assert "Kubernetes의 줄임말" in card.back_html
