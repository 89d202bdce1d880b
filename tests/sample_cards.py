"""What the bundled sample vault (``samples/``) must become, per the SPEC. Data only, no tests.

``EXPECTED_CARDS``: one entry per card, in study order (oldest note first, then order in the
note): (note path relative to the vault, subject, front, a snippet of plain text that must
appear in that card's back).

Things in the samples that must NOT become cards:

- ``daily/2025-04-02.md`` has no memo section; its ``**모의고사 회고**`` (under ``# 하루를 마치며``)
  is outside any memo section.
- ``**etcd**는 ...`` (2025-03-31, CKA): bold that goes on on the same line is body text of
  "etcd 백업과 복구".
- ``- **System status check**`` / ``- **Instance status check**`` (2025-03-31, AWS SysOps):
  bold inside a list item is body text of "EC2 상태 확인 (Status Check)".
- The text after the ``---`` that ends "CloudWatch 기본 지표" (2025-03-28) belongs to no card.

``EXPECTED_IMAGES``: distinct local image files referenced from inside cards. Not counted: the
remote ``https://example.com/...`` image (stays a link), the 공부 시간 screenshot
``image/Pasted image 20250328235900.png`` (outside the memo section), and the second
reference to ``image/Pasted image 20250328101010.png`` (from the "CNI" card, via ``![[...]]``).
The two ``arch.png`` files (``image/cka/`` and ``image/aws/``) are different images.
"""

from __future__ import annotations

EXPECTED_CARDS: list[tuple[str, str, str, str]] = [
    # 2025-03-28: JSON frontmatter
    (
        "daily/2025-03-28.md",
        "CKA",
        "Docker Network",
        "포트 포워딩은 iptables의 nat 테이블에 DNAT 규칙을 추가하는 방식",
    ),
    ("daily/2025-03-28.md", "CKA", "Network Namespace", "호스트와 격리된 네트워크 스택"),
    (
        "daily/2025-03-28.md",
        "AWS SysOps",
        "CloudWatch 기본 지표",
        "세부 모니터링(detailed monitoring)을 켜면 1분 간격",
    ),
    # 2025-03-31: YAML frontmatter (date, tags: [복습, 시험])
    ("daily/2025-03-31.md", "CKA", "etcd 백업과 복구", "분산 key-value 저장소"),
    (
        "daily/2025-03-31.md",
        "AWS SysOps",
        "EC2 상태 확인 (Status Check)",
        "상태 확인은 1분마다 실행되고",
    ),
    # 2025-04-01: a ### heading card
    ("daily/2025-04-01.md", "CKA", "Service 타입", "고정된 접근 지점으로 Service를 쓴다"),
    ("daily/2025-04-01.md", "CKA", "kube-proxy 모드", "패킷을 받아서 넘겨주는 프록시가 아님"),
    ("daily/2025-04-01.md", "AWS SysOps", "VPC 서브넷 설계", "서브넷은 AZ 하나에만 속한다"),
    (
        "daily/2025-04-01.md",
        "AWS SysOps",
        "NAT Gateway vs NAT Instance",
        "밖에서 먼저 들어오는 연결은 안 됨",
    ),
    # 2025-04-02: no memo section, no cards
    # 2025-04-03: "CNI" is written __CNI__
    (
        "daily/2025-04-03.md",
        "CKA",
        "Cluster Architecture",
        "control plane 컴포넌트가 static pod로 떠 있다",
    ),
    ("daily/2025-04-03.md", "CKA", "CNI", "CNM 모델이라 CNI 플러그인을 직접 쓰지 못한다"),
    (
        "daily/2025-04-03.md",
        "AWS SysOps",
        "Auto Scaling + ALB 구조",
        "인스턴스 수를 관리한다",
    ),
    ("daily/2025-04-03.md", "AWS SysOps", "CloudWatch 경보 상태", "경보 작업: SNS 알림"),
    # 2025-04-05
    (
        "daily/2025-04-05.md",
        "CKA",
        "Taint와 Toleration",
        "Taint는 노드에 거는 것, Toleration은 파드에 주는 것",
    ),
    ("daily/2025-04-05.md", "CKA", "kubeconfig", "환경 변수로 지정"),
    (
        "daily/2025-04-05.md",
        "AWS SysOps",
        "Session Manager",
        "bastion host도 없이 인스턴스에 접속할 수 있다",
    ),
    (
        "daily/2025-04-05.md",
        "AWS SysOps",
        "S3 수명 주기(Lifecycle)",
        "더 싼 스토리지 클래스로 옮기거나(Transition)",
    ),
]

# image/Pasted image 20250328101010.png (docker bridge), image/cka/etcd-backup.png,
# image/Pasted image 20250401093000.png (pods & services), image/aws/vpc subnet.png,
# image/cka/arch.png, image/네트워크 구성도.png, image/aws/arch.png,
# image/aws/cloudwatch-alarm.png
EXPECTED_IMAGES: int = 8
