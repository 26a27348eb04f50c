"""The Korean texts of ``explain <topic>`` (str.format templates; keys shared with
:mod:`.texts_en`)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # the cloud itself
    "cloud.missing": "{root}에는 아직 클라우드가 없습니다. 먼저 `pocketcloud init`, 이어서 "
    "`pocketcloud up`을 실행하세요 (`make quickstart`는 사이트 배포까지 해 줍니다).",
    "cloud.down": "{root}의 클라우드가 꺼져 있습니다. 그래서 아무것도 리스닝하지 않고 방화벽 "
    "규칙도 올라가 있지 않습니다: `pocketcloud up`. 아래는 저장된 내용입니다.",
    "cloud.up": "내 클라우드: {endpoint} (pid {pid}), 상태 디렉터리 {root}.",
    "now": "지금 내 클라우드에서는:",
    "try": "직접 확인해 보기:",
    "no_instances": "실행 중인 인스턴스가 없습니다. 하나 띄우려면: `aws --profile pocketcloud "
    "ec2 run-instances --image-id <ami> --key-name <key> ...`, 또는 사이트를 배포하세요: "
    "`pocketcloud deploy`.",
    "more": "... 외 {count}개",
    # port
    "port.title": "포트 (port)",
    "port.body": "포트는 16비트 숫자(0-65535)입니다. IP 주소, 프로토콜(TCP 또는 UDP)과 함께 "
    "통신의 한쪽 끝을 가리킵니다: TCP로 172.31.0.5:80.\n"
    "한 컴퓨터에서는 여러 프로그램이 동시에 돌아갑니다. 들어온 연결을 어느 프로그램에 넘길지 "
    "커널이 포트로 정합니다. 22는 SSH, 80은 HTTP, 443은 HTTPS, 8000/8080은 개발 서버가 흔히 "
    "씁니다.\n"
    "한 포트에 여러 클라이언트가 동시에 연결할 수 있습니다: TCP 연결 하나하나는 (내 주소, "
    "내 포트, 상대 주소, 상대 포트)로 구별되기 때문입니다.",
    "port.instances": "내 인스턴스에서 리스닝 중인 포트:",
    "port.instance": "{instance} ({ip}): {ports}",
    "port.host": "이 호스트에 있는 클라우드 자신의 포트:",
    "port.api": "{address}:{port}  클라우드 API ({process}) - aws와 boto3가 호출하는 곳",
    "port.api_gateway": "{address}:{port}  같은 API, 인스턴스가 (게이트웨이 주소로) 접속하는 곳",
    "port.imds": "{address}:{port}  인스턴스 메타데이터 서비스. 인스턴스 안의 "
    "http://169.254.169.254/ 가 여기로 전달됩니다",
    "port.other": "{address}:{port}  {process}",
    # listening
    "listening.title": "리스닝 (listening)",
    "listening.body": '서버 프로그램이 "리스닝"한다는 것은, 어떤 주소와 포트로 들어오는 연결을 '
    "자기에게 넘겨 달라고 커널에 요청해 두었다는 뜻입니다 (bind 다음 listen). 그 포트에서 "
    "리스닝하는 프로그램이 없으면 연결은 거부됩니다.\n"
    "어떤 주소에 bind했는지가 누가 접속할 수 있는지를 정합니다:\n"
    "  0.0.0.0 (또는 :: 나 *)  이 컴퓨터의 모든 주소: 다른 컴퓨터에서도 접속 가능\n"
    "  127.0.0.1               루프백 전용: 같은 컴퓨터 안의 프로그램만 접속 가능\n"
    "  특정 주소 하나          그 주소로 들어온 연결만",
    "listening.instance": "{instance} ({ip}):",
    "listening.socket": "{address}:{port}  {process}  - {meaning}",
    "listening.nothing": "리스닝하는 것이 없습니다 (sshd조차?)",
    "listening.nothing_on": "포트 {port}에서 리스닝하는 것이 없습니다",
    "listening.down": "{instance}: 클라우드가 꺼져 있어 실행되지 않습니다",
    "listening.not_running": "{instance}: {state} 상태, 리스닝하는 것 없음",
    "listening.unread": "{instance}: 안을 들여다볼 수 없습니다 (root로 실행하세요)",
    "meaning.all": "모든 주소: 보안 그룹이 허용하면 밖에서 접속 가능",
    "meaning.loopback": "루프백 전용: 인스턴스 자신만 접속 가능",
    "meaning.own": "인스턴스 자신의 주소: 규칙이 허용하면 밖에서 접속 가능",
    "meaning.other": "목적지 주소가 {address}인 연결만",
    "listening.try": "ssh -i {pem} {user}@{ip} 'ss -ltnp'    (인스턴스 안에서)\n"
    "sudo ip netns exec {netns} ss -ltnp    (이 호스트에서)",
    # runserver
    "runserver.title": "./manage.py runserver {written}",
    "runserver.intro": "Django의 개발 서버입니다. 프로젝트를 실행하고 주소 하나와 포트 하나에서 "
    "HTTP를 리스닝합니다. 개발용이며, `pocketcloud deploy`는 대신 nginx 뒤의 gunicorn으로 "
    "서비스합니다.",
    "runserver.addr.all": "{given:<9} = {address}: 인스턴스의 모든 주소 (사설 주소와 "
    "127.0.0.1. 공인 주소로 보낸 것은 사설 주소로 도착합니다). 그래서 다른 컴퓨터에서도 "
    "접속할 수 있습니다",
    "runserver.addr.default": "(주소 없음) = 127.0.0.1: runserver의 기본값. 루프백 전용이라 "
    "인스턴스 자신만 접속할 수 있고, 밖에서는 절대 닿지 않습니다 - 모든 주소에서 "
    "리스닝하게 하려면: runserver 0:{port}",
    "runserver.addr.loopback": "{given:<9} = 루프백 전용: 인스턴스 자신만 접속할 수 있습니다. "
    "모든 주소에서 리스닝하게 하려면: runserver 0:{port}",
    "runserver.addr.one": "{given:<9} = 목적지 주소가 {address}인 연결만",
    "runserver.addr.name": "{given:<9} = 서버에서 이 이름이 가리키는 주소",
    "runserver.port": "{given:<9} = TCP 포트: 클라이언트의 접속 주소는 <주소>:{port}",
    "runserver.port.default": "(포트 없음) = {port}: runserver의 기본 포트",
    "runserver.listeners": "지금 포트 {port}에서 리스닝 중:",
    "runserver.no_listener": "지금 내 인스턴스에는 포트 {port}에서 리스닝하는 것이 없습니다.",
    "runserver.rules": "TCP {port} 포트를 허용하는 보안 그룹 규칙:",
    "runserver.rule": "{group} ({name}) 규칙 {rule}: {traffic}, 출발지 {source} - 적용 "
    "인스턴스 {instances}",
    "runserver.no_rule": "TCP {port} 포트를 허용하는 규칙이 없습니다: "
    "밖에서 오는 연결은 버려집니다. "
    "허용하려면:\n"
    "  aws --profile pocketcloud ec2 authorize-security-group-ingress --group-id {group} "
    "--protocol tcp --port {port} --cidr 0.0.0.0/0",
    "runserver.urls": "인스턴스별 URL:",
    "url.answers": "{url}  출발지 {source}의 연결에 지금 응답합니다 ({instance}: {process} "
    "프로세스가 {address}에서 리스닝, 허용 규칙 {rule})",
    "url.not_listening": "{url}  {instance}에서 `runserver {written}` 실행 시 응답합니다 ({rules})",
    "url.loopback": "{url}  응답하지 않습니다: {instance}의 서버가 {address}에서만 리스닝합니다. "
    "고치려면: runserver 0:{port}",
    "url.blocked": "{url}  방화벽에 막힙니다: {instance}에서 리스닝은 하지만 그 보안 그룹의 "
    "어떤 규칙도 TCP {port} 포트를 허용하지 않습니다",
    "url.nothing": "{url}  {instance}에는 리스닝하는 것도, TCP {port} 포트를 허용하는 규칙도 "
    "없습니다",
    "url.admitted_by": "허용 규칙 {rule}, 출발지 {source}",
    "runserver.bind_note": "쓴 대로 ({address}) 실행하면, {note}",
    "runserver.note.loopback": "위 URL들은 절대 응답하지 않습니다: 인스턴스 자신만 접속할 수 "
    "있기 때문입니다.",
    "runserver.note.one": "목적지 주소가 {address}인 연결만 닿습니다.",
    "runserver.try": "ssh -i {pem} {user}@{ip}\n"
    "cd /srv/app/<project> && ./manage.py runserver {written}\n"
    "curl http://{ip}:{port}/    (이 호스트에서; ALLOWED_HOSTS에 {ip} 추가 필요)",
    "runserver.invalid": "{error} (runserver는 [주소:]포트를 받습니다. 예: 0:8080)",
    # security groups
    "sg.title": "보안 그룹 (security group)",
    "sg.body": "보안 그룹은 인스턴스를 둘러싼 방화벽입니다. 인바운드 규칙은 들어와도 되는 것을 "
    "적습니다 (프로토콜, 포트 범위, 그리고 출발지: 주소 범위나 다른 보안 그룹). 어떤 규칙도 "
    "허용하지 않은 것은 버려집니다. 아웃바운드 규칙은 나가도 되는 것을 적습니다.\n"
    "상태를 기억합니다(stateful): 허용된 연결의 응답은 언제나 통과합니다. 인스턴스 하나에 "
    "보안 그룹 여러 개를 붙일 수 있고, 그중 하나라도 허용하면 허용됩니다.",
    "sg.list": "내 보안 그룹:",
    "sg.summary": "{group} ({name}): 인바운드 {ingress}개, 아웃바운드 {egress}개 규칙 - 적용 "
    "인스턴스 {instances}",
    "sg.detail": "{group} ({name})의 규칙 하나하나:",
    "sg.rule": "{rule}  {direction} {traffic} {peer} {source}{description}",
    "sg.in": "인바운드  ",
    "sg.out": "아웃바운드",
    "sg.from": "출발지",
    "sg.to": "목적지",
    "sg.nobody": "없음",
    "sg.chain": "커널 안에서는: nft 테이블 inet {table}의 체인 {chain}. 인스턴스 {instance} "
    "쪽으로 들어가는 패킷을 거릅니다. 보안 그룹의 인바운드 규칙 하나가 "
    "`return`(통과)으로 끝나는 줄 하나가 되었고, 허용된 연결의 응답은 먼저 "
    "통과하며, 어느 줄에도 맞지 않으면 `drop`(버림)에 닿습니다:",
    "sg.chain.missing": "방화벽 테이블이 올라가 있지 않습니다 (클라우드가 켜져 있나요?).",
    "sg.unknown": "찾을 수 없는 보안 그룹: {subject}. 내 보안 그룹은 위에 있습니다.",
    "sg.empty": "아직 보안 그룹이 없습니다.",
    "sg.try": "aws --profile pocketcloud ec2 describe-security-group-rules --filters "
    "Name=group-id,Values={group}\n"
    "sudo nft list chain inet {table} {chain}",
    # key pairs
    "key.title": "키 페어 (key pair)",
    "key.body": "키 페어는 SSH로 인스턴스에 로그인할 때 씁니다. 클라우드는 공개 키를 가지고 "
    "있다가 인스턴스를 띄울 때 로그인 사용자의 ~/.ssh/authorized_keys에 넣어 줍니다. 개인 "
    "키(.pem 파일)는 내가 보관하며, 클라우드는 create-key-pair 때 단 한 번만 보여 줍니다.\n"
    "SSH는 다른 사람이 읽을 수 있는 개인 키를 거부합니다: 먼저 `chmod 400` 하세요.\n"
    "액세스 키(AWS_ACCESS_KEY_ID와 시크릿)와 헷갈리지 마세요: 그것은 API 호출에 서명하는 "
    "것이고 (`pocketcloud explain iam` 참고), 키 페어는 SSH만 엽니다.",
    "key.list": "내 키 페어:",
    "key.item": "{name} ({type}, {key_id})  지문(fingerprint) {fingerprint}",
    "key.used": "사용하는 인스턴스: {instances}",
    "key.unused": "사용하는 인스턴스 없음",
    "key.pem": "개인 키 위치: {pem}",
    "key.no_pem": "이 컴퓨터의 ~/.ssh/{name}.pem 에 개인 키가 없습니다",
    "key.empty": "아직 키 페어가 없습니다:\n"
    "  aws --profile pocketcloud ec2 create-key-pair --key-name mykey --query KeyMaterial "
    "--output text > ~/.ssh/mykey.pem",
    "key.login": "{instance}에 로그인하기 (키 {name}):",
    "key.try": "chmod 400 {pem}\nssh -i {pem} {user}@{ip}",
    # IAM
    "iam.title": "IAM",
    "iam.body": "IAM(Identity and Access Management)은 누가 어떤 API를 호출할 수 있는지 "
    "정합니다. 사용자는 자기 액세스 키 중 하나로 호출마다 서명하고, 사용자나 그 그룹에 붙은 "
    "정책이 작업(ec2:RunInstances, iam:CreateUser, ...)을 허용하거나 거부합니다. 명시적 "
    "Deny는 어떤 Allow보다 우선하고, 아무것도 허용하지 않은 것은 거부됩니다.\n"
    "액세스 키는 API용, 키 페어는 인스턴스에 SSH로 들어가는 용도입니다.",
    "iam.users": "사용자:",
    "iam.user": "{name}  {arn}",
    "iam.policies": "정책: {policies}",
    "iam.groups": "그룹: {groups}",
    "iam.keys": "액세스 키: {keys}",
    "iam.profile": "지금 쓰는 프로필: {profile}, 서명하는 액세스 키: {key}, 사용자: {user}.",
    "iam.profile.unknown": "지금 쓰는 프로필: {profile}. 그 액세스 키({key})는 이 클라우드의 "
    "것이 아닙니다.",
    "iam.may": "사용자 {user}의 권한:",
    "iam.allow": "허용",
    "iam.explicit_deny": "거부 (명시적 Deny)",
    "iam.implicit_deny": "거부 (허용하는 정책 없음)",
    "iam.try": "aws --profile {profile} sts get-caller-identity\n"
    "aws --profile {profile} iam list-attached-user-policies --user-name {user}",
    # instances
    "inst.title": "인스턴스 (instance)",
    "inst.body": "인스턴스는 가상 컴퓨터 한 대입니다. 여기서는 커널 기능으로 만든 진짜 리눅스 "
    "머신입니다: 자기만의 네트워크 네임스페이스 (자기 주소를 가진 eth0, veth 쌍과 /32 "
    "경로로 이 호스트와 연결), 자기만의 mount, PID, UTS, IPC, user 네임스페이스 (안의 root는 "
    "밖에서 uid 100000), 이미지 위에 겹친 overlay 루트 파일 시스템 (내가 바꾼 것은 upper "
    "층에 남음), 인스턴스 유형 크기의 cgroup, 그리고 sshd를 띄우는 PID 1 pocketcloud-init.",
    "inst.list": "내 인스턴스:",
    "inst.item": "{instance}  {state}  {type}  사설 {private}  공인 {public}  키 {key}  "
    "보안 그룹 {groups}{name}",
    "inst.parts": "이 호스트에서 본 {instance}:",
    "inst.netns": "네트워크 네임스페이스 {netns}, 호스트 쪽 veth {veth}",
    "inst.cgroup": "cgroup {cgroup}, init pid {pid}",
    "inst.upper": "upper 층 {upper}",
    "inst.try": "ssh -i {pem} {user}@{ip}\nsudo ip netns exec {netns} ip addr",
    # hosting
    "host.title": "호스팅 (hosting)",
    "host.body": "호스팅은 웹 서버를 빌리는 것입니다. `pocketcloud deploy`가 인스턴스를 웹 "
    "서버로 만듭니다: nginx가 포트 80에서 리스닝하다가 요청을 gunicorn에 넘기고, gunicorn은 "
    "Django 코드를 실행하며 릴리스별 유닉스 소켓에서 리스닝합니다. 배포할 때마다 "
    "/srv/app/<app>/releases에 새 릴리스가 생기고, `current`가 nginx가 서비스하는 릴리스를 "
    "가리키므로 롤백은 되돌려 가리키기만 하면 됩니다.",
    "host.list": "배포된 앱:",
    "host.app": "{app}: {instance} ({state}) 위, {url}",
    "host.nginx": "nginx 리스닝: {address}",
    "host.no_nginx": "포트 80을 리스닝하는 것이 없습니다",
    "host.gunicorn": "{process}: unix:{path}",
    "host.releases": "릴리스 ({count}개):",
    "host.release": "{marker} {release}  {created}  {mode}",
    "host.no_release": "{path}에 릴리스가 없습니다",
    "host.empty": "배포된 앱이 없습니다 (pocketcloud:app 태그가 붙은 인스턴스 없음). 만들어서 "
    "배포하려면:\n  pocketcloud django new mysite && cd mysite && pocketcloud deploy",
    "host.try": "pocketcloud app status --app {app}\npocketcloud releases --app {app}\n"
    "curl http://{ip}/",
    "source.group": "{group}의 멤버",
    "traffic.all": "모든 트래픽",
    # AWS keys: access keys, key pairs, roles
    "keys.title": "AWS 키: 액세스 키, 키 페어, 역할 (role)",
    "keys.body": 'AWS에서 "키"라고 부르는 것은 세 가지이고, 서로 아무 관계가 없습니다:\n'
    "1. 액세스 키(access key)는 IAM 사용자가 AWS API를 호출할 때(aws, boto3) 쓰는 장기 "
    "자격 증명입니다. ID(AKIA...)와 시크릿 한 쌍이며, 시크릿은 create-access-key 때 단 "
    "한 번만 보여 줍니다. 내 컴퓨터(~/.aws/credentials)에만 두고, 서버나 설정 파일, git에는 "
    "절대 두지 않습니다.\n"
    "2. 키 페어(key pair)는 SSH로 인스턴스에 로그인할 때 씁니다. 개인 키(.pem 파일)는 내가 "
    "보관합니다. API 호출에는 쓰이지 않습니다.\n"
    "3. 역할(role)은 정책은 있지만 자기 키는 없는 신원입니다. 인스턴스는 인스턴스 "
    "프로파일(instance profile)을 통해 역할을 받고, 인스턴스의 메타데이터 서비스"
    "(http://169.254.169.254)가 그 역할의 임시 자격 증명(ASIA..., 세션 토큰 포함, 1시간마다 "
    "갱신)을 내줍니다. 인스턴스 안의 boto3는 이것을 알아서 찾아 씁니다.\n"
    '학습 노트의 실습은 "AWS 관련 키"를 설정 JSON 파일로 옮깁니다. 그러면 시크릿이 서버에, '
    "그리고 설정 파일의 모든 복사본에 남습니다. `pocketcloud deploy --bucket NAME`은 대신 "
    "역할을 씁니다: 앱의 버킷, 그 버킷만 쓸 수 있는 역할 <app>-app, 그 역할을 담은 인스턴스 "
    "프로파일을 만들고, 앱의 인스턴스에 그 프로파일을 붙입니다. 서버에는 키가 없습니다.",
    "keys.access": "액세스 키 (사용자, 키 ID, 상태. 시크릿은 절대 보여 주지 않습니다):",
    "keys.access.item": "{user}  {key}  {status}",
    "keys.access.empty": "아직 액세스 키가 없습니다:\n"
    "  aws --profile pocketcloud iam create-access-key --user-name <user>",
    "keys.profile": "지금 쓰는 AWS CLI 프로필: {profile}, 서명하는 액세스 키: {key} (사용자 "
    "{user}). 시크릿은 이 컴퓨터의 ~/.aws/credentials에만 있습니다.",
    "keys.profile.unknown": "지금 쓰는 AWS CLI 프로필: {profile}. 그 액세스 키({key})는 이 "
    "클라우드의 것이 아닙니다.",
    "keys.pairs": "키 페어 (SSH 전용. `pocketcloud explain key-pair` 참고):",
    "keys.pair": "{name}  {fingerprint}  사용하는 인스턴스: {instances}",
    "keys.pairs.empty": "아직 키 페어가 없습니다.",
    "keys.roles": "역할:",
    "keys.role": "{name}  {arn}",
    "keys.trusted": "이 역할을 맡을 수 있는 쪽 (신뢰 정책): {principals}",
    "keys.ec2": "EC2: 이 역할을 담은 인스턴스 프로파일이 붙은 인스턴스용",
    "keys.policies": "정책: {policies}",
    "keys.resources": "정책이 허용하는 리소스: {resources}",
    "keys.roles.empty": "아직 역할이 없습니다. `pocketcloud deploy --bucket NAME`이 앱마다 "
    "하나(<app>-app)를 만듭니다.",
    "keys.profiles": "인스턴스 프로파일 (각각 역할을 하나까지 담습니다):",
    "keys.iprofile": "{name}  역할 {role}  - 붙은 인스턴스: {instances}",
    "keys.iprofile.empty": "{name}  담긴 역할 없음  - 붙은 인스턴스: {instances}",
    "keys.instances": "인스턴스와 그 역할:",
    "keys.instance.role": "{instance} ({state}): 인스턴스 프로파일 {profile}, 역할 {role}",
    "keys.instance.empty_profile": "{instance} ({state}): 인스턴스 프로파일 {profile}, 담긴 "
    "역할 없음",
    "keys.instance.gone": "{instance} ({state}): 인스턴스 프로파일 {arn}, 지금은 없는 프로파일",
    "keys.instance.none": "{instance} ({state}): 인스턴스 프로파일 없음, 역할 없음",
    "keys.apps": "배포된 앱이 AWS 자격 증명을 얻는 곳:",
    "keys.app.role": "{app} ({instance}): 역할 {role}. 인스턴스의 메타데이터 서비스에서 "
    "받습니다 (임시 키 ASIA..., 1시간마다 갱신)",
    "keys.app.none": "{app} ({instance}): 없음. 학습 노트의 방식은 설정 파일에 키를 넣는 "
    "것이지만, 역할이 더 안전합니다: pocketcloud deploy --bucket NAME",
    "keys.apps.empty": "배포된 앱이 없습니다 (pocketcloud:app 태그가 붙은 인스턴스 없음).",
    "keys.try.imds": "ssh -i {pem} {user}@{ip} curl -s {url}\n"
    "    ({instance} 안에서 보이는 것: 역할의 임시 AccessKeyId ASIA..., SecretAccessKey, "
    "Token, Expiration)",
    "keys.try": "aws --profile {profile} iam list-roles\n"
    "aws --profile {profile} iam list-instance-profiles\n"
    "aws --profile {profile} iam list-access-keys\n"
    "aws --profile {profile} ec2 describe-iam-instance-profile-associations",
    # errors
    "unknown": "모르는 주제 {topic!r}. 아는 주제: {known}",
}
