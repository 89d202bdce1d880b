"""Make a synthetic Obsidian vault of daily notes in the real note shape, for benchmarks.

The notes look like the ones memo2anki is written for: JSON frontmatter (Digital Garden),
the `공부 시간` / `Tags` / `오전` / `오후` / `내일 할 일` sections, then `# 공부 메모장` with one to
three subjects as `## ` headings and three to eight bold-heading cards in all. Card backs mix
Korean and English lines, fenced code, tables, lists, inline bold and code, and about 30% of
them show a screenshot from a shared pool of PNG files, in every image syntax Obsidian and the
Digital Garden plugin write. About 3% of the notes have no memo section.

Everything comes from ``random.Random(seed)``: the same seed and size give a byte-identical
tree (file modification times included), and the first N notes of a bigger vault are the
N notes of a smaller one. ``bench-stats.json`` at the vault root records what was made; the
floor benchmark reads it, and memo2anki ignores it (not markdown).

    python benchmarks/make_vault.py DIR --notes 2000 --seed 0
    python benchmarks/make_vault.py --self-check
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATS_FILE = "bench-stats.json"
FIRST_DAY = dt.date(2022, 1, 1)
IMAGE_DIR = "image"
GENERATOR_VERSION = 1

# The text the notes are made of, per subject: card fronts, body lines, code, one table.
# fmt: off
SUBJECTS: dict[str, dict[str, Any]] = {
    "CKA": {
        "fronts": [
            "Docker Network", "CNI", "Cluster Networking", "Service 타입", "kube-proxy",
            "etcd 백업과 복구", "Static Pod", "DaemonSet", "Taint와 Toleration",
            "Node Affinity", "RBAC", "NetworkPolicy", "PV와 PVC", "Ingress", "kubeadm upgrade",
            "Liveness Probe", "Resource Limits", "ConfigMap과 Secret", "Init Container",
            "CoreDNS",
        ],
        "lines": [
            "None 설정하면 컨테이너 외부와 통신 불가능",
            "Host: 네트워크 네임스페이스를 호스트의 네임스페이스로 사용함. 바로 통신 가능함.",
            "Bridge: 컨테이너를 네트워크 네임스페이스로 격리하여 통신하는 방식",
            "포트포워딩을 통해서 로컬호스트의 특정 포트가 컨테이너의 특정 포트와 연결된다.",
            "이는 `iptables`를 통해서 이뤄진다.",
            "calico, flannel, cilium 등이 CNI 표준을 따라서 개발되었다.",
            "**kubelet**은 각 노드에서 Pod spec을 보고 컨테이너를 실행한다.",
            "The scheduler only decides the node; the kubelet actually starts the Pod.",
            "Static Pod는 `/etc/kubernetes/manifests` 아래 manifest로 kubelet이 직접 띄운다.",
            "ClusterIP는 클러스터 내부에서만 접근 가능, NodePort는 30000-32767 포트를 연다.",
            "`kubectl explain pod.spec --recursive`로 필드를 빠르게 찾을 수 있다.",
            "Taint는 노드에, Toleration은 Pod에 설정한다. #cka",
            "etcd는 클러스터의 모든 상태를 저장하는 key-value store이다.",
            "RBAC: Role은 namespace 범위, ClusterRole은 클러스터 범위.",
            "시험에서는 `--dry-run=client -o yaml`로 manifest를 먼저 뽑는 게 빠르다.",
            "Ingress controller가 없으면 Ingress 리소스만 만들어서는 아무 일도 일어나지 않는다.",
            "==PVC는 PV에 1:1로 bind된다==, 남은 용량은 다른 PVC가 쓸 수 없다.",
            "자세한 건 [[CKA 정리#Networking|네트워크 정리]] 참고",
        ],
        "code": [
            ("yaml", [
                "apiVersion: v1", "kind: Service", "metadata:", "  name: web",
                "spec:", "  type: NodePort", "  selector:", "    app: web", "  ports:",
                "    - port: 80", "      targetPort: 8080", "      nodePort: 30080",
            ]),
            ("bash", [
                "ETCDCTL_API=3 etcdctl snapshot save /opt/backup.db \\",
                "  --endpoints=https://127.0.0.1:2379 \\",
                "  --cacert=/etc/kubernetes/pki/etcd/ca.crt \\",
                "  --cert=/etc/kubernetes/pki/etcd/server.crt \\",
                "  --key=/etc/kubernetes/pki/etcd/server.key",
            ]),
            ("bash", [
                "kubectl create deploy web --image=nginx --replicas=3 \\",
                "  --dry-run=client -o yaml > web.yaml",
                "kubectl expose deploy web --port=80 --type=NodePort",
                "kubectl get pods -o wide --show-labels",
            ]),
            ("yaml", [
                "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata:",
                "  name: deny-all", "spec:", "  podSelector: {}", "  policyTypes:",
                "    - Ingress",
            ]),
        ],
        "table": [
            ["타입", "접근 범위", "포트"],
            ["ClusterIP", "클러스터 내부", "임의"],
            ["NodePort", "노드 IP", "30000-32767"],
            ["LoadBalancer", "외부 LB", "80/443"],
        ],
    },
    "AWS SysOps": {
        "fronts": [
            "CloudWatch Agent", "EC2 Status Check", "Auto Scaling 정책", "ELB 502 에러",
            "S3 Lifecycle", "S3 Replication", "RDS Multi-AZ", "RDS Read Replica",
            "Route 53 라우팅 정책", "CloudFormation StackSets", "Systems Manager Session Manager",
            "AWS Config Rules", "VPC Flow Logs", "NAT Gateway", "KMS 키 로테이션", "EBS 볼륨 타입",
            "CloudTrail", "Trusted Advisor",
        ],
        "lines": [
            "System status check 실패는 AWS 쪽 문제, instance status check 실패는 내 쪽 문제.",
            "Stop/Start 하면 다른 host로 옮겨지므로 system status check 실패가 해결된다.",
            "메모리와 디스크 사용률은 기본 지표가 아니다. CloudWatch Agent를 설치해야 한다.",
            "Target tracking policy는 지표를 목표값 근처로 유지한다.",
            "Multi-AZ는 가용성(HA)용, Read Replica는 읽기 성능(scale)용이다.",
            "**Read Replica**는 비동기 복제라서 약간의 지연이 있다.",
            "S3 Standard-IA는 최소 30일 보관 요금이 붙는다. #aws",
            "Weighted, Latency, Failover, Geolocation, Multi-value 정책이 있다.",
            "Session Manager를 쓰면 bastion host와 22번 포트 없이 접속할 수 있다.",
            "NAT Gateway는 AZ 단위 리소스라서 AZ마다 하나씩 두는 게 HA 구성이다.",
            "gp3는 IOPS와 throughput을 용량과 별개로 설정할 수 있다.",
            "CloudTrail은 API 호출 기록, Config는 리소스 설정 변화 기록.",
            "Exam tip: `502 Bad Gateway`는 대부분 target 쪽 응답 문제다.",
            "KMS customer managed key는 1년 자동 로테이션을 켤 수 있다.",
            "StackSets로 여러 계정과 리전에 같은 스택을 배포한다.",
            "~~Classic Load Balancer~~는 이제 시험에 거의 안 나온다.",
        ],
        "code": [
            ("json", [
                "{", '  "Version": "2012-10-17",', '  "Statement": [{',
                '    "Effect": "Allow",', '    "Action": "s3:GetObject",',
                '    "Resource": "arn:aws:s3:::my-bucket/*"', "  }]", "}",
            ]),
            ("bash", [
                "aws ec2 describe-instance-status --instance-ids i-0abc123 \\",
                "  --query 'InstanceStatuses[].SystemStatus.Status'",
                "aws s3api put-bucket-versioning --bucket my-bucket \\",
                "  --versioning-configuration Status=Enabled",
            ]),
            ("yaml", [
                "Resources:", "  LogBucket:", "    Type: AWS::S3::Bucket", "    Properties:",
                "      VersioningConfiguration:", "        Status: Enabled",
            ]),
        ],
        "table": [
            ["항목", "Multi-AZ", "Read Replica"],
            ["복제", "동기", "비동기"],
            ["목적", "가용성", "읽기 확장"],
            ["Failover", "자동", "수동 승격"],
        ],
    },
    "Linux": {
        "fronts": [
            "inode", "Hard link와 Soft link", "파일 권한", "SUID와 SGID", "systemd unit",
            "journalctl", "LVM", "fstab", "cron", "프로세스 상태", "nice와 renice",
            "/proc 파일시스템", "umask", "tar와 압축", "grep 정규표현식", "sed", "awk",
        ],
        "lines": [
            "inode는 파일의 메타데이터(권한, 소유자, 크기, 블록 위치)를 저장한다.",
            "Hard link는 같은 inode를 가리키고, soft link는 경로를 가리킨다.",
            "rwx는 각각 4, 2, 1. 755는 owner rwx, group r-x, other r-x.",
            "SUID가 걸린 실행 파일은 소유자의 권한으로 실행된다. 예: `passwd`",
            "`systemctl enable --now nginx`는 부팅 시 시작과 즉시 시작을 한 번에 한다.",
            "`journalctl -u nginx --since today`로 오늘 로그만 본다.",
            "LVM은 PV → VG → LV 순서로 만든다.",
            "umask 022이면 새 파일은 644, 새 디렉터리는 755.",
            "**D 상태**는 uninterruptible sleep으로 보통 I/O 대기다.",
            "nice 값은 -20(높은 우선순위)부터 19(낮은 우선순위)까지.",
            "`/proc/<pid>/status`에서 프로세스 메모리 사용량을 볼 수 있다.",
            "Everything is a file: devices, sockets and pipes too. #linux",
            "crontab 형식은 분 시 일 월 요일 순서.",
            "fstab의 여섯 번째 필드는 fsck 순서다.",
        ],
        "code": [
            ("bash", [
                "pvcreate /dev/sdb", "vgcreate data /dev/sdb", "lvcreate -n app -L 10G data",
                "mkfs.xfs /dev/data/app", "mount /dev/data/app /srv/app",
            ]),
            ("ini", [
                "[Unit]", "Description=My app", "After=network.target", "", "[Service]",
                "ExecStart=/usr/local/bin/app", "Restart=on-failure", "", "[Install]",
                "WantedBy=multi-user.target",
            ]),
            ("bash", [
                "find /var/log -name '*.log' -mtime +7 -delete",
                "awk -F: '$3 >= 1000 {print $1}' /etc/passwd",
                "sed -i 's/^#PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config",
            ]),
            ("text", [
                "*/5 * * * * /usr/local/bin/backup.sh", "0 3 * * 1 /usr/local/bin/weekly.sh",
            ]),
        ],
        "table": [
            ["권한", "숫자", "의미"],
            ["r", "4", "읽기"],
            ["w", "2", "쓰기"],
            ["x", "1", "실행"],
        ],
    },
    "Network": {
        "fronts": [
            "OSI 7계층", "TCP 3-way handshake", "TCP 4-way handshake", "서브넷 마스크",
            "CIDR", "ARP", "DNS 조회 과정", "DHCP", "NAT", "VLAN", "STP", "TCP 혼잡 제어",
            "HTTP keep-alive", "TLS handshake", "MTU와 MSS", "ICMP",
        ],
        "lines": [
            "SYN → SYN+ACK → ACK 순서로 연결을 맺는다.",
            "FIN을 받은 쪽은 TIME_WAIT가 아니라 CLOSE_WAIT 상태가 된다.",
            "/24는 256개 주소, 사용 가능한 호스트는 254개.",
            "ARP는 IP 주소로 MAC 주소를 찾는다. 같은 브로드캐스트 도메인 안에서만 동작.",
            "DNS는 recursive resolver → root → TLD → authoritative 순서로 묻는다.",
            "DHCP는 DORA: Discover, Offer, Request, Ack.",
            "**NAT**는 사설 IP를 공인 IP로 바꿔준다. PAT는 포트까지 바꾼다.",
            "VLAN은 L2 브로드캐스트 도메인을 논리적으로 나눈다.",
            "STP는 스위치 루프를 막기 위해 일부 포트를 blocking 상태로 둔다.",
            "Slow start는 cwnd를 지수적으로, congestion avoidance는 선형으로 늘린다.",
            "MTU 1500에서 IP/TCP 헤더 40바이트를 빼면 MSS는 1460.",
            "`traceroute`는 TTL을 1씩 늘리며 ICMP Time Exceeded를 받는다. #network",
            "TLS 1.3은 1-RTT handshake, 재연결은 0-RTT도 가능하다.",
            "L4 로드밸런서는 IP/port, L7 로드밸런서는 HTTP 내용을 보고 분배한다.",
        ],
        "code": [
            ("bash", [
                "ip addr show", "ip route", "ss -tlnp", "dig +trace example.com",
                "tcpdump -i eth0 -nn 'tcp port 443'",
            ]),
            ("text", [
                "Client                Server", "  | ---- SYN ---------> |",
                "  | <--- SYN+ACK ----- |", "  | ---- ACK ---------> |",
            ]),
            ("python", [
                "import ipaddress", "", "net = ipaddress.ip_network('10.0.0.0/24')",
                "print(net.num_addresses, net.broadcast_address)",
            ]),
        ],
        "table": [
            ["계층", "이름", "예시"],
            ["7", "Application", "HTTP, DNS"],
            ["4", "Transport", "TCP, UDP"],
            ["3", "Network", "IP, ICMP"],
            ["2", "Data Link", "Ethernet, ARP"],
        ],
    },
}

LIST_ITEMS = [
    "시험 전에 한 번 더 보기", "공식 문서 링크 정리", "`kubectl` alias 설정: `alias k=kubectl`",
    "**중요**: 시간 배분", "Practice test 2회차 복습", "실습 환경에서 직접 해보기",
    "오답 노트에 추가", "[[오답 노트]]와 같이 보기", "Check the exam guide again",
    "헷갈리는 개념 표로 정리",
]
# fmt: on
TASKS = ["SysOps", "CKA", "Linux 복습", "네트워크 강의", "Udemy 모의고사", "KodeKloud 실습"]
CLOSING = ["내일도 화이팅", "오늘은 집중이 잘 됐다", "복습 위주로 진행", "조금 피곤했지만 완료"]


@dataclass
class VaultStats:
    """What a generated vault holds; ``cards`` is what memo2anki should make from it."""

    seed: int
    notes: int
    notes_with_memo: int = 0
    cards: int = 0
    image_refs: int = 0  # image references inside cards
    distinct_images: int = 0  # distinct images referenced from cards
    pool_images: int = 0  # PNG files in image/
    code_blocks: int = 0
    tables: int = 0
    lists: int = 0
    media: list[str] = field(default_factory=list)  # vault-relative paths, referenced from cards
    generator: int = GENERATOR_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def load(cls, vault: Path) -> VaultStats:
        data = json.loads((vault / STATS_FILE).read_text(encoding="utf-8"))
        return cls(**data)


def png_bytes(width: int, height: int, rng: random.Random) -> bytes:
    """A valid RGB PNG whose rows are mostly noise, so it barely compresses (stdlib only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row_len = width * 3
    rows = bytearray()
    flat = bytes(rng.randrange(256) for _ in range(3)) * width  # a toolbar-like flat band
    for y in range(height):
        rows.append(0)  # filter: none
        rows += flat if y < height // 10 else rng.randbytes(row_len)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def image_name(index: int, rng: random.Random) -> str:
    moment = dt.datetime(2022, 1, 1, 9) + dt.timedelta(days=index * 7, seconds=rng.randrange(86400))
    return f"Pasted image {moment:%Y%m%d%H%M%S}.png"


def image_ref(name: str, syntax: int) -> str:
    """One image reference in the four syntaxes the real notes use, in rotation."""
    if syntax == 0:  # Digital Garden, URL-encoded
        encoded = name.replace(" ", "%20")
        return f"![{name}](/img/user/{IMAGE_DIR}/{encoded})"
    if syntax == 1:
        return f"![[{name}]]"
    if syntax == 2:
        return f"![[{name}|300]]"
    return f"![screenshot](<{IMAGE_DIR}/{name}>)"


class _NoteWriter:
    def __init__(self, rng: random.Random, pool: list[str], stats: VaultStats) -> None:
        self.rng = rng
        self.pool = pool
        self.stats = stats
        self.syntax = 0
        self.used: set[str] = set()
        self.lines: list[str] = []

    def image_line(self) -> str:
        name = self.rng.choice(self.pool)
        line = image_ref(name, self.syntax % 4)
        self.syntax += 1
        self.used.add(name)
        self.stats.image_refs += 1
        return line

    def body_lines(self, count: int) -> list[str]:
        """Lines from the subject's pool, none twice in one card."""
        taken, self.lines = self.lines[:count], self.lines[count:]
        return taken

    def card(self, subject: str, front: str) -> list[str]:
        rng = self.rng
        style = rng.random()
        if style < 0.1:
            heading = f"__{front}__"
        elif style < 0.4:
            heading = f"**{front}** "  # trailing space, as the real notes have
        else:
            heading = f"**{front}**"
        out = [heading]
        self.lines = rng.sample(SUBJECTS[subject]["lines"], len(SUBJECTS[subject]["lines"]))
        if rng.random() < 0.3:
            out.append("")  # bold paragraph alone, back starts after a blank line
        out += self.body_lines(rng.randint(1, 3))
        with_image = rng.random() < 0.3
        image_inline = with_image and rng.random() < 0.5
        if image_inline:  # as in the real note: the screenshot line inside the paragraph
            out.append(self.image_line())
            out += self.body_lines(rng.randint(0, 2))
        if rng.random() < 0.3:
            self.stats.lists += 1
            out.append("")
            ordered = rng.random() < 0.3
            for n, item in enumerate(rng.sample(LIST_ITEMS, rng.randint(2, 4)), 1):
                out.append(f"{n}. {item}" if ordered else f"- {item}")
                if rng.random() < 0.15:
                    out.append(f"    - {rng.choice(LIST_ITEMS)}")
        if rng.random() < 0.25:
            self.stats.code_blocks += 1
            lang, code = rng.choice(SUBJECTS[subject]["code"])
            out += ["", f"```{lang}", *code, "```"]
        if rng.random() < 0.1:
            self.stats.tables += 1
            header, *rows = SUBJECTS[subject]["table"]
            out += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            out += ["| " + " | ".join(row) + " |" for row in rows]
        if with_image and not image_inline:
            out += ["", self.image_line()]
        if rng.random() < 0.2:
            out += ["", *self.body_lines(rng.randint(1, 2))]
        self.stats.cards += 1
        return out

    def memo(self) -> list[str]:
        rng = self.rng
        cards = rng.randint(3, 8)
        subjects = rng.sample(list(SUBJECTS), min(cards, rng.choice((1, 1, 2, 2, 3))))
        per_subject = [1] * len(subjects)
        for _ in range(cards - len(subjects)):
            per_subject[rng.randrange(len(subjects))] += 1
        out = ["# 공부 메모장"]
        for subject, count in zip(subjects, per_subject, strict=True):
            out.append(f"## {subject}")
            fronts = rng.sample(SUBJECTS[subject]["fronts"], count)
            for i, front in enumerate(fronts):
                if i:
                    out.append("")
                    if rng.random() < 0.05:
                        out += ["---", ""]  # a thematic break also ends a card
                out += self.card(subject, front)
            out.append("")
        return out

    def note(self, day: dt.date) -> str:
        rng = self.rng
        meta: dict[str, object] = {
            "dg-publish": True,
            "permalink": f"/06-full-notes/{day.isoformat()}/",
            "noteIcon": "",
        }
        if rng.random() < 0.1:
            meta["tags"] = ["daily"]
        monday = day - dt.timedelta(days=day.weekday())
        week = f"{monday:%Y-%m}-{(monday.day - 1) // 7 + 1}week"
        out = ["---", json.dumps(meta, ensure_ascii=False, separators=(",", ":")), "---", ""]
        out.append("# 공부 시간")
        if rng.random() < 0.5:  # outside the memo: never a card's image
            out.append(image_ref(rng.choice(self.pool), 0))
        else:
            out.append(f"총 {rng.randint(2, 9)}시간 {rng.choice((0, 15, 30, 45))}분")
        out += [
            "# Tags",
            f"- [[03 - Tags/{day:%Y-%m}\\|{day:%Y-%m}]]",
            f"- [[03 - Tags/{week}\\|{week}]]",
            "",
            "---",
            "# 어제 학습 내용 백지 복습",
            "",
            "---",
            "# 오전",
            f"- [x]  {rng.choice(TASKS)}",
            "---",
            "# 오후",
            f"- [{rng.choice('x ')}] {rng.choice(TASKS)}",
            "---",
            "# 하루를 마치며",
            rng.choice(CLOSING),
            "",
            "---",
            "# 내일 할 일",
            f"- [ ] {rng.choice(TASKS)}",
            f"- [ ] {rng.choice(TASKS)}",
            "---",
            "",
        ]
        if rng.random() < 0.03:
            out += ["오늘은 공부 메모 없음.", ""]
        else:
            self.stats.notes_with_memo += 1
            out += self.memo()
        return "\n".join(out).rstrip("\n") + "\n"


def make_vault(root: Path, notes: int, seed: int = 0, images: int = 50) -> VaultStats:
    """Write a vault of ``notes`` daily notes under ``root`` (created; must be empty)."""
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root}: not empty")
    rng = random.Random(seed)
    img_rng = random.Random(seed + 0x5EED)  # the pool does not depend on the number of notes
    stats = VaultStats(seed=seed, notes=notes, pool_images=images)
    epoch = dt.datetime(2022, 1, 1, tzinfo=dt.UTC).timestamp()  # not the local zone
    (root / ".obsidian").mkdir(parents=True, exist_ok=True)
    settings = root / ".obsidian" / "app.json"
    settings.write_text('{\n  "attachmentFolderPath": "image"\n}\n', encoding="utf-8")
    os.utime(settings, (epoch, epoch))
    image_dir = root / IMAGE_DIR
    image_dir.mkdir()
    pool: list[str] = []
    for i in range(images):
        name = image_name(i, img_rng)
        while name in pool:
            name = image_name(i, img_rng)
        width = 128
        target = img_rng.randint(18_000, 22_000)  # about 20 KB each
        height = max(8, round(target / (width * 3 + 1) / 0.9))
        path = image_dir / name
        path.write_bytes(png_bytes(width, height, img_rng))
        os.utime(path, (epoch, epoch))
        pool.append(name)

    writer = _NoteWriter(rng, pool, stats)
    for i in range(notes):
        day = FIRST_DAY + dt.timedelta(days=i)
        folder = root / "daily" / f"{day.year}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{day.isoformat()}.md"
        path.write_text(writer.note(day), encoding="utf-8", newline="\n")
        stamp = epoch + i * 86400 + 22 * 3600
        os.utime(path, (stamp, stamp))
    stats.distinct_images = len(writer.used)
    stats.media = sorted(f"{IMAGE_DIR}/{name}" for name in writer.used)
    stats_path = root / STATS_FILE
    stats_path.write_text(stats.to_json(), encoding="utf-8")
    os.utime(stats_path, (epoch, epoch))
    return stats


def tree_digest(root: Path, with_mtimes: bool = True) -> str:
    """SHA-256 over every path, its bytes (and its modification time) below ``root``."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
            if with_mtimes:
                digest.update(str(int(path.stat().st_mtime)).encode())
    return digest.hexdigest()


def self_check(notes: int = 300) -> bool:
    """Same seed → byte-identical tree; another seed → another tree; stats add up."""
    with tempfile.TemporaryDirectory(prefix="m2a-vault-check-") as tmp:
        a, b, c = Path(tmp, "a"), Path(tmp, "b"), Path(tmp, "c")
        sa = make_vault(a, notes, seed=7)
        sb = make_vault(b, notes, seed=7)
        make_vault(c, notes, seed=8)
        same = tree_digest(a) == tree_digest(b) and sa == sb
        differs = tree_digest(a) != tree_digest(c)
        md = sorted(a.rglob("*.md"))
        headings = sum(
            line.startswith(("**", "__")) and line.rstrip().endswith(("**", "__"))
            for p in md
            for line in p.read_text(encoding="utf-8").splitlines()
        )
        pngs = sorted((a / IMAGE_DIR).glob("*.png"))
        sizes = [p.stat().st_size for p in pngs]
        ok_png = all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
        checks = {
            "same seed gives a byte-identical tree": same,
            "another seed gives another tree": differs,
            f"{notes} notes written": len(md) == notes == sa.notes,
            "bold-heading lines == cards": headings == sa.cards,
            "3-8 cards per memo note": 3 * sa.notes_with_memo <= sa.cards <= 8 * sa.notes_with_memo,
            "some notes without a memo": 0 < notes - sa.notes_with_memo < notes * 0.1,
            "50 PNGs of about 20 KB": len(pngs) == 50
            and ok_png
            and min(sizes) > 17_000
            and max(sizes) < 24_000,
            "about 30% of cards with an image": 0.2 < sa.image_refs / sa.cards < 0.4,
        }
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        print(f"     digest {tree_digest(a)[:16]}  {sa.cards} cards, {sa.image_refs} image refs")
        return all(checks.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, nargs="?", help="vault folder to create (empty)")
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=50, help="PNG files in the shared pool")
    parser.add_argument("--force", action="store_true", help="replace DIR if it exists")
    parser.add_argument("--self-check", action="store_true", help="check determinism and exit")
    args = parser.parse_args(argv)
    if args.self_check:
        return 0 if self_check() else 1
    if args.dir is None:
        parser.error("DIR is required (or --self-check)")
    if args.force and args.dir.exists():
        shutil.rmtree(args.dir)
    started = time.perf_counter()
    try:
        stats = make_vault(args.dir, args.notes, args.seed, args.images)
    except FileExistsError as err:
        parser.error(f"{err} (use --force to replace it)")
    print(
        f"{args.dir}: {stats.notes} notes ({stats.notes_with_memo} with a memo), "
        f"{stats.cards} cards, {stats.image_refs} image refs to {stats.distinct_images} "
        f"distinct images, {stats.code_blocks} code blocks, {stats.tables} tables "
        f"in {time.perf_counter() - started:.1f} s; digest {tree_digest(args.dir)[:16]}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
