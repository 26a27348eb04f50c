"""The English texts of ``explain <topic>`` (str.format templates; keys shared with
:mod:`.texts_ko`)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # the cloud itself
    "cloud.missing": "There is no cloud in {root} yet. Start one: `pocketcloud init` then "
    "`pocketcloud up` (or `make quickstart`, which also deploys a site).",
    "cloud.down": "The cloud in {root} is not running, so nothing is listening and no rule "
    "is loaded: `pocketcloud up`. What is stored is shown below.",
    "cloud.up": "Your cloud: {endpoint} (pid {pid}), state in {root}.",
    "now": "On your cloud now:",
    "try": "Try it yourself:",
    "no_instances": "No instance is running. Launch one: `aws --profile pocketcloud ec2 "
    "run-instances --image-id <ami> --key-name <key> ...`, or deploy a site: "
    "`pocketcloud deploy`.",
    "more": "... and {count} more",
    # port
    "port.title": "Port",
    "port.body": "A port is a 16-bit number (0-65535). With an IP address and a protocol "
    "(TCP or UDP) it names one end of a conversation: 172.31.0.5:80 over TCP.\n"
    "A machine runs many programs at once; the port tells the kernel which program a "
    "connection is for. 22 is SSH, 80 is HTTP, 443 is HTTPS, 8000/8080 are common for "
    "development servers.\n"
    "Many clients can talk to one port at the same time: each TCP connection is told "
    "apart by (local address, local port, remote address, remote port).",
    "port.instances": "Ports listening on your instances:",
    "port.instance": "{instance} ({ip}): {ports}",
    "port.host": "Ports of the cloud on this host:",
    "port.api": "{address}:{port}  the cloud's API ({process}) - what aws and boto3 call",
    "port.api_gateway": "{address}:{port}  the same API, as instances reach it (their gateway)",
    "port.imds": "{address}:{port}  the instance metadata service; inside an instance "
    "http://169.254.169.254/ is redirected here",
    "port.other": "{address}:{port}  {process}",
    # listening
    "listening.title": "Listening",
    "listening.body": 'A server program "listens": it asks the kernel to hand it the '
    "connections that arrive for one address and port (bind, then listen). Until a program "
    "listens on a port, a connection to it is refused.\n"
    "The address it binds decides who can connect:\n"
    "  0.0.0.0 (or :: or *)  every address of the machine: other machines can connect\n"
    "  127.0.0.1             loopback only: only programs on the same machine can connect\n"
    "  one address           only connections made to that address",
    "listening.instance": "{instance} ({ip}):",
    "listening.socket": "{address}:{port}  {process}  - {meaning}",
    "listening.nothing": "nothing listens (not even sshd?)",
    "listening.nothing_on": "nothing listens on port {port}",
    "listening.down": "{instance}: not running, the cloud is down",
    "listening.not_running": "{instance}: {state}, nothing listens",
    "listening.unread": "{instance}: could not look inside (run as root)",
    "meaning.all": "every address: reachable from outside if a security group admits it",
    "meaning.loopback": "loopback only: only the instance itself can connect",
    "meaning.own": "the instance's own address: reachable from outside if a rule admits it",
    "meaning.other": "only connections to {address}",
    "listening.try": "ssh -i {pem} {user}@{ip} 'ss -ltnp'    (inside the instance)\n"
    "sudo ip netns exec {netns} ss -ltnp    (from this host)",
    # runserver
    "runserver.title": "./manage.py runserver {written}",
    "runserver.intro": "Django's development server: it runs your project and listens "
    "for HTTP on one address and port. It is for development; `pocketcloud deploy` serves "
    "with gunicorn behind nginx instead.",
    "runserver.addr.all": "{given:<9} = {address}: every address of the instance (its "
    "private address and 127.0.0.1; what is sent to its public address arrives on the "
    "private one), so other machines can connect",
    "runserver.addr.default": "(no address) = 127.0.0.1: runserver's default. Loopback "
    "only: just the instance itself can connect, nothing outside ever reaches it - "
    "write 0:{port} to listen on every address",
    "runserver.addr.loopback": "{given:<9} = loopback only: just the instance itself can "
    "connect; write 0:{port} to listen on every address",
    "runserver.addr.one": "{given:<9} = only connections made to {address}",
    "runserver.addr.name": "{given:<9} = the address the name {address} has on the server",
    "runserver.port": "{given:<9} = the TCP port: clients connect to <address>:{port}",
    "runserver.port.default": "(no port) = {port}: runserver's default port",
    "runserver.listeners": "Listening on port {port} right now:",
    "runserver.no_listener": "Nothing listens on port {port} on your instances now.",
    "runserver.rules": "Security group rules admitting TCP {port}:",
    "runserver.rule": "{group} ({name}) rule {rule}: {traffic} from {source} - guards {instances}",
    "runserver.no_rule": "No rule admits TCP {port}: a connection from outside is dropped. "
    "To admit it:\n"
    "  aws --profile pocketcloud ec2 authorize-security-group-ingress --group-id {group} "
    "--protocol tcp --port {port} --cidr 0.0.0.0/0",
    "runserver.urls": "The URL, instance by instance:",
    "url.answers": "{url}  answers now to connections from {source} ({instance}: {process} "
    "listens on {address}, rule {rule} admits them)",
    "url.not_listening": "{url}  would answer once runserver {written} runs on {instance} "
    "({rules})",
    "url.loopback": "{url}  does not answer: on {instance} it listens on {address} only; "
    "run it as runserver 0:{port}",
    "url.blocked": "{url}  is dropped by the firewall: {instance} listens, but no rule of "
    "its groups admits TCP {port}",
    "url.nothing": "{url}  nothing listens and no rule admits TCP {port} on {instance}",
    "url.admitted_by": "rule {rule} admits it from {source}",
    "runserver.bind_note": "With {address} as written, {note}",
    "runserver.note.loopback": "the URLs above could never answer: only the instance "
    "itself could connect.",
    "runserver.note.one": "only connections to {address} reach it.",
    "runserver.try": "ssh -i {pem} {user}@{ip}\n"
    "cd /srv/app/<project> && ./manage.py runserver {written}\n"
    "curl http://{ip}:{port}/    (from this host; add {ip} to ALLOWED_HOSTS)",
    "runserver.invalid": "{error} (runserver takes [address:]port, e.g. 0:8080)",
    # security groups
    "sg.title": "Security group",
    "sg.body": "A security group is a firewall around an instance. Ingress rules list what "
    "may come in (protocol, port range, and the source: an address range or another "
    "group); what no rule admits is dropped. Egress rules list what may go out.\n"
    "It is stateful: the replies of an admitted connection always pass. An instance may "
    "have several groups; it admits what any of them admits.",
    "sg.list": "Your security groups:",
    "sg.summary": "{group} ({name}): {ingress} ingress, {egress} egress rules - guards {instances}",
    "sg.detail": "{group} ({name}), rule by rule:",
    "sg.rule": "{rule}  {direction} {traffic} {peer} {source}{description}",
    "sg.in": "in ",
    "sg.out": "out",
    "sg.from": "from",
    "sg.to": "to",
    "sg.nobody": "no instance",
    "sg.chain": "In the kernel: nft table inet {table}, chain {chain}, what reaches "
    "{instance}. Each ingress rule of its groups became one line ending in `return` (let "
    "through); replies of admitted flows pass first; whatever matches no line meets `drop`:",
    "sg.chain.missing": "The firewall table is not loaded (is the cloud up?).",
    "sg.unknown": "No security group {subject}; yours are listed above.",
    "sg.empty": "No security group yet.",
    "sg.try": "aws --profile pocketcloud ec2 describe-security-group-rules --filters "
    "Name=group-id,Values={group}\n"
    "sudo nft list chain inet {table} {chain}",
    # key pairs
    "key.title": "Key pair",
    "key.body": "A key pair logs you in to an instance over SSH: the cloud keeps the public "
    "key and puts it into the login user's ~/.ssh/authorized_keys at launch; you keep the "
    "private key (the .pem file), which the cloud shows only once, at create-key-pair.\n"
    "SSH refuses a private key that others can read: `chmod 400` it first.\n"
    "Not to be confused with an access key (AWS_ACCESS_KEY_ID and its secret): that one "
    "signs API calls (see `pocketcloud explain iam`); a key pair only opens SSH.",
    "key.list": "Your key pairs:",
    "key.item": "{name} ({type}, {key_id})  fingerprint {fingerprint}",
    "key.used": "used by {instances}",
    "key.unused": "used by no instance",
    "key.pem": "private key here: {pem}",
    "key.no_pem": "private key not found in ~/.ssh/{name}.pem on this machine",
    "key.empty": "No key pair yet:\n"
    "  aws --profile pocketcloud ec2 create-key-pair --key-name mykey --query KeyMaterial "
    "--output text > ~/.ssh/mykey.pem",
    "key.login": "Log in to {instance} (key {name}):",
    "key.try": "chmod 400 {pem}\nssh -i {pem} {user}@{ip}",
    # IAM
    "iam.title": "IAM",
    "iam.body": "IAM (Identity and Access Management) decides who may call which API. "
    "A user signs each call with one of its access keys; policies attached to the user or "
    "to its groups allow or deny actions (ec2:RunInstances, iam:CreateUser, ...). An "
    "explicit Deny wins over any Allow; what nothing allows is denied.\n"
    "Access keys are for the API; key pairs are for SSH into instances.",
    "iam.users": "Users:",
    "iam.user": "{name}  {arn}",
    "iam.policies": "policies: {policies}",
    "iam.groups": "groups: {groups}",
    "iam.keys": "access keys: {keys}",
    "iam.profile": "The profile in use, {profile}, signs with {key}: user {user}.",
    "iam.profile.unknown": "The profile in use, {profile}, has no access key of this cloud "
    "({key}).",
    "iam.may": "What {user} may do:",
    "iam.allow": "allowed",
    "iam.explicit_deny": "denied (explicit Deny)",
    "iam.implicit_deny": "denied (no policy allows it)",
    "iam.try": "aws --profile {profile} sts get-caller-identity\n"
    "aws --profile {profile} iam list-attached-user-policies --user-name {user}",
    # instances
    "inst.title": "Instance",
    "inst.body": "An instance is one virtual computer. Here it is a real Linux machine "
    "made of kernel parts: its own network namespace (an eth0 with its address, joined to "
    "this host by a veth pair and a /32 route), its own mount, PID, UTS, IPC and user "
    "namespaces (root inside is uid 100000 outside), an overlay root filesystem over the "
    "image (your changes live in its upper layer), a cgroup sized by the instance type, "
    "and pocketcloud-init as PID 1, which starts sshd.",
    "inst.list": "Your instances:",
    "inst.item": "{instance}  {state}  {type}  private {private}  public {public}  key "
    "{key}  groups {groups}{name}",
    "inst.parts": "{instance} on this host:",
    "inst.netns": "network namespace {netns}, host side veth {veth}",
    "inst.cgroup": "cgroup {cgroup}, init pid {pid}",
    "inst.upper": "upper layer {upper}",
    "inst.try": "ssh -i {pem} {user}@{ip}\nsudo ip netns exec {netns} ip addr",
    # hosting
    "host.title": "Hosting",
    "host.body": "Hosting is renting a web server. `pocketcloud deploy` turns an instance "
    "into one: nginx listens on port 80 and passes each request to gunicorn, which runs "
    "your Django code and listens on a unix socket of the release. Each deploy is a new "
    "release in /srv/app/<app>/releases; `current` points at the one nginx serves, so a "
    "rollback is a switch back.",
    "host.list": "Your deployed apps:",
    "host.app": "{app} on {instance} ({state}): {url}",
    "host.nginx": "nginx listens on {address}",
    "host.no_nginx": "nothing listens on port 80",
    "host.gunicorn": "{process} on unix:{path}",
    "host.releases": "releases ({count}):",
    "host.release": "{marker} {release}  {created}  {mode}",
    "host.no_release": "no release found in {path}",
    "host.empty": "No app is deployed (no instance tagged pocketcloud:app). Make and deploy "
    "one:\n  pocketcloud django new mysite && cd mysite && pocketcloud deploy",
    "host.try": "pocketcloud app status --app {app}\npocketcloud releases --app {app}\n"
    "curl http://{ip}/",
    "source.group": "members of {group}",
    "traffic.all": "all traffic",
    # AWS keys: access keys, key pairs, roles
    "keys.title": "AWS keys: access keys, key pairs and roles",
    "keys.body": 'Three things around AWS are called "keys", and they have nothing to do with '
    "each other:\n"
    "1. An access key is an IAM user's long-term credential for calling the AWS API (aws, "
    "boto3): an id (AKIA...) and a secret. The secret is shown once, at create-access-key. "
    "Keep it on your own machine (~/.aws/credentials): never on a server, in settings or "
    "in git.\n"
    "2. A key pair logs you in to an instance over SSH. You keep its private half, the .pem "
    "file. It signs no API call.\n"
    "3. A role is an identity with policies but no key of its own. An instance gets one "
    "through an instance profile; its metadata service (http://169.254.169.254) hands out "
    "temporary credentials for it (ASIA..., with a session token, renewed hourly), and "
    "boto3 on the instance finds them by itself.\n"
    'The seed moves "AWS-related keys" into the settings JSON: then a secret sits on the '
    "server and in every copy of the settings. `pocketcloud deploy --bucket NAME` uses a "
    "role instead: it makes the app's bucket, a role <app>-app that may use only that "
    "bucket and an instance profile holding it, and gives the app's instance that profile. "
    "No key on the server.",
    "keys.access": "Access keys (user, key id, status; a secret is never shown):",
    "keys.access.item": "{user}  {key}  {status}",
    "keys.access.empty": "No access key yet:\n"
    "  aws --profile pocketcloud iam create-access-key --user-name <user>",
    "keys.profile": "Your AWS CLI profile {profile} signs with {key} (user {user}); its "
    "secret stays in ~/.aws/credentials on this machine.",
    "keys.profile.unknown": "Your AWS CLI profile {profile} has no access key of this cloud "
    "({key}).",
    "keys.pairs": "Key pairs (for SSH only; see `pocketcloud explain key-pair`):",
    "keys.pair": "{name}  {fingerprint}  used by {instances}",
    "keys.pairs.empty": "No key pair yet.",
    "keys.roles": "Roles:",
    "keys.role": "{name}  {arn}",
    "keys.trusted": "may be assumed by (its trust policy): {principals}",
    "keys.ec2": "EC2, for the instances whose instance profile holds it",
    "keys.policies": "policies: {policies}",
    "keys.resources": "resources its policies allow: {resources}",
    "keys.roles.empty": "No role yet. `pocketcloud deploy --bucket NAME` makes one for an "
    "app: <app>-app.",
    "keys.profiles": "Instance profiles (each holds at most one role):",
    "keys.iprofile": "{name}  role {role}  - given to {instances}",
    "keys.iprofile.empty": "{name}  holds no role  - given to {instances}",
    "keys.instances": "Instances and their roles:",
    "keys.instance.role": "{instance} ({state}): instance profile {profile}, role {role}",
    "keys.instance.empty_profile": "{instance} ({state}): instance profile {profile}, which "
    "holds no role",
    "keys.instance.gone": "{instance} ({state}): instance profile {arn}, which no longer exists",
    "keys.instance.none": "{instance} ({state}): no instance profile, no role",
    "keys.apps": "Where each deployed app's AWS credentials come from:",
    "keys.app.role": "{app} on {instance}: the role {role}, from its instance's metadata "
    "service (temporary ASIA... keys, renewed hourly)",
    "keys.app.none": "{app} on {instance}: none. The seed's way is keys in the settings; a "
    "role is safer: pocketcloud deploy --bucket NAME",
    "keys.apps.empty": "No app is deployed (no instance tagged pocketcloud:app).",
    "keys.try.imds": "ssh -i {pem} {user}@{ip} curl -s {url}\n"
    "    (what {instance} sees: the role's temporary AccessKeyId ASIA..., SecretAccessKey, "
    "Token and Expiration)",
    "keys.try": "aws --profile {profile} iam list-roles\n"
    "aws --profile {profile} iam list-instance-profiles\n"
    "aws --profile {profile} iam list-access-keys\n"
    "aws --profile {profile} ec2 describe-iam-instance-profile-associations",
    # errors
    "unknown": "Unknown topic {topic!r}. Known topics: {known}",
}
