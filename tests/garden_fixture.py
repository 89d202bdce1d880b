"""Write a small Obsidian vault and the Digital Garden repository published from it.

``vault/`` is what its owner edits: daily notes with a ``# 공부 메모장`` section, pictures in
``image/``, an embedded note, tag notes. ``garden/`` is what the Obsidian Digital Garden plugin
(oleeskild/obsidian-digital-garden) commits for the notes marked ``dg-publish: true``, byte for
byte as its compiler writes them:

- notes at ``src/site/notes/<vault path>``, pictures at ``src/site/img/user/<vault path>``
  (only the pictures a published note uses);
- frontmatter turned into one line of JSON, followed by an empty line;
- ``[[target|alias]]`` written ``[[full/vault/path\\|alias]]`` (alias = the text as written when
  there was none), unresolved targets kept as written;
- ``![[picture.png]]`` written ``![picture.png](/img/user/<encodeURI(vault path)>)``;
  ``![[picture.png|300]]`` keeps ``|300`` in the alt text;
- ``![[note#heading]]`` replaced by the heading's section inside the plugin's
  ``<div class="transclusion internal-embed is-loaded">`` wrapper;
- ``%%comments%%`` removed (the line breaks around them stay);
- a block id `` ^id`` written as a line ``{ #id}`` and an empty line.

Two plugin versions are modelled (``--plugin-version``): 2.59.2 writes as the owners of older
gardens have it (no ``dg-note-properties``, ``![a.png|300](...)``, markdown-image paths not
URL-encoded); 2.84.0 is the newest (``dg-note-properties``, ``![a.png\\|300](...)``, paths
URL-encoded). The garden trees were checked byte for byte against the plugin's own compiler at
both tags. A reader that undoes the plugin's rewrites gets the same cards from the vault and
from either garden: ``VAULT_CARDS``.

``marker`` says which of the template's files mark the repository (``plugin-info.json``,
``.eleventy.js`` or both), and ``base_dir`` puts the garden in a folder of a larger repository
(the plugin's "content base dir").

Usage: ``python tests/garden_fixture.py DEST [--plugin-version 2.84.0] [--site-base-url URL]``
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

LEGACY_VERSION = "2.59.2"
CURRENT_VERSION = "2.84.0"
PLUGIN_VERSIONS = (LEGACY_VERSION, CURRENT_VERSION)
SITE_BASE_URL = "https://memo-garden.example.org"

DAY_ONE = "01 - Daily/2025-05-12.md"
DAY_TWO = "01 - Daily/2025-05-13.md"
NETWORK_NOTE = "02 - Notes/쿠버네티스 네트워크.md"

# The page each published note gets: "/" + the vault path without ".md", every folder and the
# name slugified (@sindresorhus/slugify drops Hangul, so an all-Korean name becomes "").
PERMALINKS: Mapping[str, str] = {
    DAY_ONE: "/01-daily/2025-05-12/",
    DAY_TWO: "/01-daily/2025-05-13/",
    NETWORK_NOTE: "/02-notes//",
}

# (note, subject, front) of every card the vault gives, in study order.
VAULT_CARDS: tuple[tuple[str, str, str], ...] = (
    (DAY_ONE, "CKA", "Pod 네트워크"),
    (DAY_ONE, "CKA", "kube-proxy"),
    (DAY_ONE, "CKA", "Service 종류"),
    (DAY_TWO, "CKA", "CNI 플러그인"),
    (DAY_TWO, "CKA", "Network Policy"),
    (DAY_TWO, "AWS", "VPC 엔드포인트"),
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (8-bit RGB, no filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


# Every picture of the vault, by vault path; each one distinct.
IMAGES: Mapping[str, bytes] = {
    "image/Pasted image 20250512093000.png": png(2, 2, (200, 40, 40)),
    "image/Pasted image 20250512101500.png": png(3, 2, (40, 160, 60)),
    "image/Pasted image 20250513081000.png": png(2, 3, (40, 70, 200)),
    "image/Pasted image 20250513090500.png": png(4, 2, (220, 180, 30)),
    "image/네트워크 구조.png": png(2, 4, (130, 50, 170)),
    "image/sized.png": png(5, 3, (20, 150, 150)),
    "image/vpc endpoint.png": png(3, 3, (240, 120, 20)),
    "image/unused.png": png(1, 1, (90, 90, 90)),  # in no note: never published
}
PUBLISHED_IMAGES = tuple(name for name in IMAGES if name != "image/unused.png")


# --- the vault -----------------------------------------------------------------------------

TRAILING_SPACE = " "  # after a bold heading, as people leave it (written so to keep it visible)

VAULT_NOTES: Mapping[str, str] = {
    DAY_ONE: f"""\
---
dg-publish: true
tags:
  - daily
---
# 공부 시간
![[Pasted image 20250512093000.png]]
# Tags
- [[2025-05]]
- [[03 - Tags/CKA 준비|CKA 준비]]

---
# 오전
- [x] CKA 강의 3강
---
# 내일 할 일
- [ ] 모의고사 1회 풀기
---

# 공부 메모장
## CKA
**Pod 네트워크**{TRAILING_SPACE}
파드마다 고유한 IP가 하나씩 붙는다.
같은 파드의 컨테이너끼리는 localhost로 통신한다.
![[Pasted image 20250512101500.png]]
%%강의 12분 지점 다시 보기%%
파드를 다시 만들면 IP가 바뀐다는 점에 주의.

**kube-proxy**
서비스 IP로 들어온 요청을 실제 파드로 넘겨준다.
iptables 모드와 IPVS 모드가 있다. [[쿠버네티스 네트워크|정리 노트]] 참고.
![[sized.png|300]]

> [!tip] 시험 팁
> `kubectl get endpoints`로 서비스 뒤의 파드를 확인한다.

**Service 종류**
![[쿠버네티스 네트워크#Service 타입]]
==ClusterIP가 기본값==이다. 아직 못 쓴 내용은 [[아직 없는 노트]]로.
""",
    DAY_TWO: """\
---
dg-publish: true
---
# 공부 시간
![[Pasted image 20250513081000.png]]
# Tags
- [[2025-05]]

---
# 하루를 마치며
네트워크 파트 끝

---

# 공부 메모장
## CKA
**CNI 플러그인**
kubelet이 파드를 만들 때 CNI 플러그인을 불러 네트워크를 붙인다.
대표적으로 calico, flannel, cilium이 있다. ^cni-list
![[Pasted image 20250513090500.png]]
![[네트워크 구조.png]]

__Network Policy__
아무 정책이 없으면 모든 파드 사이 통신이 허용된다.
%%
정책 예시는 내일 다시 정리
%%
`podSelector`로 대상 파드를 고른다.

## AWS
**VPC 엔드포인트**
![](image/vpc%20endpoint.png)
S3와 DynamoDB는 게이트웨이 엔드포인트를 쓴다.
""",
    NETWORK_NOTE: """\
---
dg-publish: true
---
# Service 타입
**ClusterIP**
클러스터 내부에서만 접근 가능한 가상 IP
**NodePort**
모든 노드의 30000-32767 포트로 노출

# Ingress
L7 라우팅 규칙 모음
""",
    # Tag notes: linked from `# Tags`, never published.
    "03 - Tags/2025-05.md": "2025년 5월에 쓴 노트 모음\n",
    "03 - Tags/CKA 준비.md": "CKA 시험 준비 노트 모음\n",
}

OBSIDIAN_SETTINGS: Mapping[str, object] = {
    "app.json": {"attachmentFolderPath": "image", "newLinkFormat": "shortest"},
    "daily-notes.json": {"folder": "01 - Daily", "format": "YYYY-MM-DD"},
    "community-plugins.json": ["digitalgarden"],
}


# --- the garden ----------------------------------------------------------------------------

# The link the plugin puts in a transclusion of a published note (a "link" icon).
_EMBED_LINK_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" '
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round" class="svg-icon lucide-link">'
    '<path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71"></path>'
    '<path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71"></path></svg>'
)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _at_least(version: str, minimum: str) -> bool:
    return _version(version) >= _version(minimum)


def encode_uri(path: str) -> str:
    """JavaScript's ``encodeURI``: UTF-8 percent-encoding of all but its reserved set."""
    return quote(path, safe=";,/?:@&=+$-_.!~*'()#")


def _frontmatter(version: str, note: str, properties: Mapping[str, object]) -> str:
    """The one JSON line that replaces a note's YAML frontmatter (with a note icon setting on,
    as in the real example), closed by ``---`` and the note's own line break."""
    data: dict[str, object] = {"dg-publish": True, "permalink": PERMALINKS[note]}
    if "tags" in properties:
        data["tags"] = properties["tags"]
    data["noteIcon"] = ""
    if _at_least(version, "2.74.0"):
        data["dg-note-properties"] = dict(properties)
    return "---\n" + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n---\n"


def _picture(alt: str, vault_path: str) -> str:
    """``![[...]]`` of a picture as published: alt kept, URL ``/img/user/`` + encoded path."""
    return f"![{alt}]({encode_uri('/img/user/' + vault_path)})"


def _sized_alt(version: str, name: str, size: str) -> str:
    separator = "\\|" if _at_least(version, "2.73.1") else "|"
    return f"{name}{separator}{size}"


def _markdown_picture_url(version: str, vault_path: str) -> str:
    """``![](relative.png)`` as published: encoded since 2.62.0, raw (spaces and all) before."""
    url = "/img/user/" + vault_path
    return encode_uri(url) if _at_least(version, "2.62.0") else url


def _transclusion(target_note: str, section_id: str, text: str) -> str:
    """What replaces ``![[note#heading]]`` of a published note (no alias: no title block)."""
    link = (
        f'<a class="markdown-embed-link" href="{PERMALINKS[target_note]}{section_id}" '
        f'aria-label="Open link">{_EMBED_LINK_ICON}</a>'
    )
    return (
        f'\n<div class="transclusion internal-embed is-loaded">{link}'
        f'<div class="markdown-embed">\n\n\n\n{text}\n\n</div></div>\n'
    )


def garden_notes(version: str = CURRENT_VERSION) -> dict[str, str]:
    """The published notes by vault path, as ``version`` of the plugin writes them."""
    service_section = (
        "# Service 타입\n**ClusterIP**\n클러스터 내부에서만 접근 가능한 가상 IP\n"
        "**NodePort**\n모든 노드의 30000-32767 포트로 노출\n"
    )
    block_id = "{ #cni-list}"
    day_one = f"""\
{_frontmatter(version, DAY_ONE, {"tags": ["daily"]})}
# 공부 시간
{_picture("Pasted image 20250512093000.png", "image/Pasted image 20250512093000.png")}
# Tags
- [[03 - Tags/2025-05\\|2025-05]]
- [[03 - Tags/CKA 준비\\|CKA 준비]]

---
# 오전
- [x] CKA 강의 3강
---
# 내일 할 일
- [ ] 모의고사 1회 풀기
---

# 공부 메모장
## CKA
**Pod 네트워크**{TRAILING_SPACE}
파드마다 고유한 IP가 하나씩 붙는다.
같은 파드의 컨테이너끼리는 localhost로 통신한다.
{_picture("Pasted image 20250512101500.png", "image/Pasted image 20250512101500.png")}

파드를 다시 만들면 IP가 바뀐다는 점에 주의.

**kube-proxy**
서비스 IP로 들어온 요청을 실제 파드로 넘겨준다.
iptables 모드와 IPVS 모드가 있다. [[02 - Notes/쿠버네티스 네트워크\\|정리 노트]] 참고.
{_picture(_sized_alt(version, "sized.png", "300"), "image/sized.png")}

> [!tip] 시험 팁
> `kubectl get endpoints`로 서비스 뒤의 파드를 확인한다.

**Service 종류**
{_transclusion(NETWORK_NOTE, "#service", service_section)}
==ClusterIP가 기본값==이다. 아직 못 쓴 내용은 [[아직 없는 노트\\|아직 없는 노트]]로.
"""
    day_two = f"""\
{_frontmatter(version, DAY_TWO, {})}
# 공부 시간
{_picture("Pasted image 20250513081000.png", "image/Pasted image 20250513081000.png")}
# Tags
- [[03 - Tags/2025-05\\|2025-05]]

---
# 하루를 마치며
네트워크 파트 끝

---

# 공부 메모장
## CKA
**CNI 플러그인**
kubelet이 파드를 만들 때 CNI 플러그인을 불러 네트워크를 붙인다.
대표적으로 calico, flannel, cilium이 있다.
{block_id}

{_picture("Pasted image 20250513090500.png", "image/Pasted image 20250513090500.png")}
{_picture("네트워크 구조.png", "image/네트워크 구조.png")}

__Network Policy__
아무 정책이 없으면 모든 파드 사이 통신이 허용된다.

`podSelector`로 대상 파드를 고른다.

## AWS
**VPC 엔드포인트**
![]({_markdown_picture_url(version, "image/vpc endpoint.png")})
S3와 DynamoDB는 게이트웨이 엔드포인트를 쓴다.
"""
    network = f"""\
{_frontmatter(version, NETWORK_NOTE, {})}
{service_section}
# Ingress
L7 라우팅 규칙 모음
"""
    return {DAY_ONE: day_one, DAY_TWO: day_two, NETWORK_NOTE: network}


def env_file(site_base_url: str | None) -> str:
    """``.env`` as the plugin writes it (``KEY=value`` lines, no final line break)."""
    values: dict[str, str] = {
        "SITE_NAME_HEADER": "공부 정원",
        "SITE_MAIN_LANGUAGE": "ko",
        "SITE_BASE_URL": site_base_url or "",
        "SHOW_CREATED_TIMESTAMP": "false",
        "TIMESTAMP_FORMAT": "MMM dd, yyyy h:mm a",
        "SHOW_UPDATED_TIMESTAMP": "false",
        "NOTE_ICON_DEFAULT": "",
        "NOTE_ICON_TITLE": "true",
        "NOTE_ICON_FILETREE": "false",
        "NOTE_ICON_INTERNAL_LINKS": "false",
        "NOTE_ICON_BACK_LINKS": "false",
        "STYLE_SETTINGS_CSS": "",
        "STYLE_SETTINGS_BODY_CLASSES": "",
        "USE_FULL_RESOLUTION_IMAGES": "false",
        "dgHomeLink": "true",
        "dgPassFrontmatter": "false",
        "dgShowBacklinks": "false",
        "dgShowLocalGraph": "false",
        "dgShowInlineTitle": "false",
        "dgShowFileTree": "true",
        "dgEnableSearch": "false",
        "dgShowToc": "false",
        "dgLinkPreview": "false",
        "dgShowTags": "false",
    }
    return "\n".join(f"{key}={value}" for key, value in values.items())


# The site template's own files (stand-ins written here: only their presence matters).
_PLUGIN_INFO = {
    "filesToDelete": ["src/site/styles/style.css"],
    "filesToAdd": ["src/site/styles/custom-style.scss", ".env"],
    "filesToModify": [".eleventy.js", "package.json", "src/site/notes/notes.json"],
}
_ELEVENTY_CONFIG = """\
// Stand-in for the Digital Garden template's Eleventy configuration.
module.exports = function () {
  return { dir: { input: "src/site", output: "dist" } };
};
"""
_PACKAGE_JSON = {
    "name": "web",
    "version": "1.0.0",
    "private": True,
    "scripts": {"build": "eleventy"},
    "devDependencies": {"@11ty/eleventy": "^3.1.2"},
}
_README = "# 공부 정원\n\nThe site's own README, not a note: it is outside `src/site/notes/`.\n"
_NOTES_DATA = {"tags": "note", "templateEngineOverride": "md"}


@dataclass(frozen=True)
class Fixture:
    """Where the two trees were written."""

    vault: Path
    garden: Path

    def garden_note(self, vault_path: str) -> Path:
        return self.garden / "src" / "site" / "notes" / vault_path

    def garden_image(self, vault_path: str) -> Path:
        return self.garden / "src" / "site" / "img" / "user" / vault_path


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="\n")


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


MARKERS = ("both", "plugin-info", "eleventy")


def write_fixture(
    dest: Path,
    plugin_version: str = CURRENT_VERSION,
    site_base_url: str | None = SITE_BASE_URL,
    marker: str = "both",
    base_dir: str = "",
) -> Fixture:
    """Write ``dest/vault`` and ``dest/garden`` (``dest/garden/<base_dir>`` the garden itself);
    ``site_base_url`` None leaves it unset."""
    if plugin_version not in PLUGIN_VERSIONS:
        raise ValueError(f"plugin version {plugin_version!r}: one of {PLUGIN_VERSIONS}")
    if marker not in MARKERS:
        raise ValueError(f"marker {marker!r}: one of {MARKERS}")
    garden = dest / "garden" / base_dir if base_dir else dest / "garden"
    fixture = Fixture(vault=dest / "vault", garden=garden)

    for name, settings in OBSIDIAN_SETTINGS.items():
        _write(fixture.vault / ".obsidian" / name, _json(settings))
    for note, text in VAULT_NOTES.items():
        _write(fixture.vault / note, text)
    for picture, data in IMAGES.items():
        _write(fixture.vault / picture, data)

    for note, text in garden_notes(plugin_version).items():
        _write(fixture.garden_note(note), text)
    for picture in PUBLISHED_IMAGES:
        _write(fixture.garden_image(picture), IMAGES[picture])
    _write(fixture.garden / "src" / "site" / "notes" / "notes.json", _json(_NOTES_DATA))
    if marker in {"both", "plugin-info"}:
        _write(fixture.garden / "plugin-info.json", _json(_PLUGIN_INFO))
    if marker in {"both", "eleventy"}:
        _write(fixture.garden / ".eleventy.js", _ELEVENTY_CONFIG)
    _write(fixture.garden / "package.json", _json(_PACKAGE_JSON))
    _write(fixture.garden / ".env", env_file(site_base_url))
    _write(fixture.garden / "README.md", _README)
    return fixture


def page_url(note: str, site_base_url: str = SITE_BASE_URL) -> str:
    """The published page of a note: the site's address (``https://`` added when it has no
    scheme, as the template does) and the permalink, empty path segments dropped."""
    base = site_base_url if site_base_url.startswith("http") else f"https://{site_base_url}"
    path = "/".join(part for part in PERMALINKS[note].split("/") if part)
    return f"{base.rstrip('/')}/{quote(path)}/" if path else f"{base.rstrip('/')}/"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("dest", type=Path, help="folder to write vault/ and garden/ into")
    parser.add_argument("--plugin-version", choices=PLUGIN_VERSIONS, default=CURRENT_VERSION)
    parser.add_argument("--site-base-url", default=SITE_BASE_URL, help="'' leaves it unset")
    args = parser.parse_args(argv)
    fixture = write_fixture(args.dest, args.plugin_version, args.site_base_url or None)
    print(f"vault:  {fixture.vault}\ngarden: {fixture.garden}")


if __name__ == "__main__":
    main()
