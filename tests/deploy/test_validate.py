"""The deploy options' checks: literal good and bad values for each option, the one-line
messages, and properties over arbitrary text (nothing accepted can carry a shell
metacharacter; nothing but InvalidOption ever escapes). Pure: no server, no network.
"""

from __future__ import annotations

import ipaddress
import pickle
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.deploy import validate
from pocketcloud.deploy.validate import InvalidOption

INJECTION = 'x"; touch /tmp/pwned; echo "'
HOST_RULE = (
    "a host name is dot-separated labels of letters, digits and '-' (1-63 each, not starting "
    "or ending with '-'), at most 253 characters (RFC 1123)"
)
#: what any accepted --domain, --app, --python or --target may contain: no shell
#: metacharacter, space, quote or control character ('+' is in --python paths)
SAFE = re.compile(r"[A-Za-z0-9._:/@\[\]+-]*")
#: text that often comes close to an accepted value, with the dangerous characters mixed in
NEAR = st.text(alphabet="aZ09._-:/@[]+ ;$`'\"\n\t\\|&*%", max_size=40)
HOSTILE = [
    INJECTION,
    "$(id)",
    "`id`",
    "a\nb",
    "a;b",
    "a b",
    "'a'",
    '"a"',
    "a|b",
    "a&b",
    "a>b",
    "-oProxyCommand=id",
    "",
    " ",
    "a\x00b",
]

CHECKS: dict[str, Callable[[Any], Any]] = {
    "domain": validate.domain,
    "app_name": validate.app_name,
    "python": validate.python,
    "target": validate.target,
    "ssh_from": validate.ssh_from,
    "workers": validate.workers,
    "keep": validate.keep,
}
TEXT_CHECKS = ["domain", "app_name", "python", "target"]


def refused(check: Callable[[Any], Any], value: object) -> InvalidOption:
    with pytest.raises(InvalidOption) as info:
        check(value)
    return info.value


class TestInvalidOption:
    def test_message_is_one_line(self) -> None:
        """str() names the option, shows the value with repr and says the rule, on one line."""
        error = InvalidOption("--app", "a\nb", "an app name is short")
        assert str(error) == "--app 'a\\nb': an app name is short"
        assert (error.option, error.value, error.rule) == ("--app", "a\nb", "an app name is short")

    def test_is_a_value_error(self) -> None:
        """Callers that catch ValueError catch it too."""
        assert isinstance(InvalidOption("--keep", 0, "r"), ValueError)

    def test_non_ascii_is_escaped(self) -> None:
        """A look-alike letter shows as its escape, so the user sees why the value differs."""
        error = InvalidOption("--domain", "p\u0430y.example", "r")
        assert str(error) == "--domain 'p\\u0430y.example': r"

    def test_pickles(self) -> None:
        """The error survives pickling (a process pool or a logging handler may do that)."""
        error = pickle.loads(pickle.dumps(InvalidOption("--keep", 0, "r")))  # noqa: S301
        assert str(error) == "--keep 0: r"


class TestDomain:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("example.com", "example.com"),
            ("Shop.Example.COM", "shop.example.com"),
            ("example.com.", "example.com"),
            ("localhost", "localhost"),
            ("a-b.c-d.example", "a-b.c-d.example"),
            ("123.example.com", "123.example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("a" * 63 + ".example", "a" * 63 + ".example"),
            ("203.0.113.7", "203.0.113.7"),
            ("198.51.100.255", "198.51.100.255"),
        ],
    )
    def test_good(self, value: str, expected: str) -> None:
        """Host names (any case, one trailing dot) and IPv4 addresses are accepted,
        normalized to lower case without the dot."""
        assert validate.domain(value) == expected

    def test_longest_name(self) -> None:
        """253 characters is the most a name may have, not counting a trailing dot."""
        name = ".".join(["a" * 63] * 3 + ["b" * 61])
        assert len(name) == 253
        assert validate.domain(name) == name
        assert validate.domain(name + ".") == name

    @pytest.mark.parametrize(
        "value",
        [
            *HOSTILE,
            "a" * 64 + ".example",
            ".".join(["a" * 63] * 3 + ["b" * 62]),
            "*.example.com",
            "example.com:8000",
            "_dmarc.example.com",
            "my_site.example",
            "-example.com",
            "example-.com",
            "example..com",
            ".example.com",
            ".",
            "example.com..",
            "ex\u0430mple.com",  # Cyrillic a
            "\u212aelvin.example",  # Kelvin sign, lower-cases to k
            "example.com\u200b",  # zero-width space
            "b\u00fccher.example",
            "http://example.com",
            "example.com/",
            "::1",
            "[::1]",
            "user@example.com",
        ],
    )
    def test_bad_names(self, value: str) -> None:
        """Anything but RFC 1123 labels is refused, saying the host-name rule."""
        assert refused(validate.domain, value).rule == HOST_RULE

    @pytest.mark.parametrize(
        "value",
        ["1.2.3.999", "1.2.3", "01.2.3.4", "1.2.3.4.", "0x7f.1", "example.123", "123", "1.2.3.4.5"],
    )
    def test_numeric_last_label(self, value: str) -> None:
        """A name ending in an all-digit label must be a plain IPv4 address."""
        assert refused(validate.domain, value).rule == validate.IPV4_RULE

    def test_injection_message(self) -> None:
        """The injection that once ran on the server is refused in one clear line."""
        error = refused(validate.domain, INJECTION)
        assert str(error) == f"--domain {INJECTION!r}: {HOST_RULE}"

    def test_the_254_character_name(self) -> None:
        """A 254-character name is refused even though each label is fine."""
        name = ".".join(["a" * 63] * 3 + ["b" * 62])
        assert len(name) == 254
        with pytest.raises(InvalidOption, match="at most 253 characters"):
            validate.domain(name)


class TestAppName:
    @pytest.mark.parametrize("value", ["a", "shop", "my-app2", "a" * 40])
    def test_good(self, value: str) -> None:
        """Layout's rule: 1-40 lowercase letters, digits and '-', starting with a letter."""
        assert validate.app_name(value) == value

    @pytest.mark.parametrize(
        "value",
        [*HOSTILE, "Shop", "1app", "-app", "my_app", "a/b", "../etc", "a" * 41, "\u0455hop"],
    )
    def test_bad(self, value: str) -> None:
        """Anything else is refused, saying the rule."""
        assert refused(validate.app_name, value).rule == validate.APP_RULE

    def test_message(self) -> None:
        """The message names --app and the rule."""
        assert str(refused(validate.app_name, "My App")) == (
            "--app 'My App': an app name is 1-40 lowercase letters, digits and '-', "
            "starting with a letter"
        )


class TestPython:
    @pytest.mark.parametrize(
        "value",
        [
            "python3",
            "python3.12",
            "/usr/bin/python3",
            "/opt/pyenv/versions/3.12.7/bin/python",
            "/home/admin/.pyenv/versions/3.12.7/bin/python3.12",
            "/opt/python3.13+debug/bin/python",
            "3.12",
            "3.12.7",
        ],
    )
    def test_good(self, value: str) -> None:
        """python3[.N], safe absolute paths and version requests are returned as given."""
        assert validate.python(value) == value

    @pytest.mark.parametrize(
        "value",
        [
            *HOSTILE,
            "python",
            "python2",
            "python3.12.7",
            "pypy3",
            "bin/python3",
            "./python3",
            "/usr/bin/../../tmp/python",
            "/usr/bin/./python3",
            "/usr//bin/python3",
            "/usr/bin/",
            "/",
            "/opt/my python/bin/python",
            "/usr/bin/python3;id",
            "/usr/bin/$(id)",
            "/usr/bin/pyth\u043en3",  # Cyrillic o
            "3",
            "2.7",
            "3.12.7.1",
            "3.\uff11\uff12",  # fullwidth digits
            "-c",
            "~/.pyenv/shims/python",
            "/" + "a" * 1024,
        ],
    )
    def test_bad(self, value: str) -> None:
        """Relative paths, '..', odd characters and other interpreters are refused."""
        assert refused(validate.python, value).rule == validate.PYTHON_RULE


class TestSshFrom:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("203.0.113.0/24", "203.0.113.0/24"),
            ("203.0.113.7", "203.0.113.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
            ("2001:DB8::/32", "2001:db8::/32"),
            ("2001:db8::1", "2001:db8::1/128"),
            ("::/0", "::/0"),
        ],
    )
    def test_good(self, value: str, expected: str) -> None:
        """CIDRs and bare addresses of either family come back as normalized CIDR text."""
        assert validate.ssh_from(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            *HOSTILE,
            "203.0.113.0/33",
            "2001:db8::/129",
            "256.0.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/8/8",
            "fe80::1%eth0",
            " 10.0.0.0/8",
            "\uff11\uff10.0.0.0/8",
            "example.com",
            "10.0.0.0/-8",
        ],
    )
    def test_bad(self, value: str) -> None:
        """Anything that is not an address with an optional prefix is refused."""
        assert refused(validate.ssh_from, value).rule == validate.CIDR_RULE

    @pytest.mark.parametrize(
        ("value", "network"),
        [("10.1.2.3/8", "10.0.0.0/8"), ("2001:db8::1/32", "2001:db8::/32")],
    )
    def test_host_bits(self, value: str, network: str) -> None:
        """A prefix with host bits set is refused, naming the network that was probably meant."""
        assert str(refused(validate.ssh_from, value)) == (
            f"--ssh-from '{value}': a CIDR has no address bits set after its prefix "
            f"(the network is {network})"
        )


class TestCounts:
    @pytest.mark.parametrize(("value", "works"), [(1, True), (64, True), (0, False), (65, False)])
    def test_workers(self, value: int, works: bool) -> None:
        """gunicorn workers are 1..64."""
        if works:
            assert validate.workers(value) == value
        else:
            assert refused(validate.workers, value).rule == validate.WORKERS_RULE

    @pytest.mark.parametrize(("value", "works"), [(1, True), (100, True), (0, False), (101, False)])
    def test_keep(self, value: int, works: bool) -> None:
        """Releases to keep are 1..100."""
        if works:
            assert validate.keep(value) == value
        else:
            assert refused(validate.keep, value).rule == validate.KEEP_RULE

    @pytest.mark.parametrize("value", [-1, True, "4", 4.0, None])
    def test_not_counts(self, value: object) -> None:
        """Negative numbers, bools, strings, floats and None are not counts."""
        refused(validate.workers, value)
        refused(validate.keep, value)

    def test_message(self) -> None:
        """The message names the option and the range."""
        assert str(refused(validate.keep, 0)) == (
            "--keep 0: the releases to keep are a whole number from 1 to 100"
        )


class TestTarget:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("pocketcloud", "pocketcloud"),
            ("aws", "aws"),
            ("ssh://admin@203.0.113.7", "ssh://admin@203.0.113.7"),
            ("ssh://admin@Web.Example.COM.:2222", "ssh://admin@web.example.com:2222"),
            ("ssh://Admin@host", "ssh://Admin@host"),
            ("ssh://_deploy-1@host:22", "ssh://_deploy-1@host:22"),
            ("ssh://debian@[2001:DB8::1]", "ssh://debian@[2001:db8::1]"),
            ("ssh://debian@[2001:db8::1]:65535", "ssh://debian@[2001:db8::1]:65535"),
            ("ssh://" + "u" * 32 + "@h:1", "ssh://" + "u" * 32 + "@h:1"),
        ],
    )
    def test_good(self, value: str, expected: str) -> None:
        """The two clouds, or an ssh URL whose host comes back normalized."""
        assert validate.target(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            *HOSTILE,
            "AWS",
            "pocketcloud ",
            "ssh://host",
            "ssh:/admin@host",
            "sftp://admin@host",
            "admin@host",
        ],
    )
    def test_bad_shape(self, value: str) -> None:
        """Anything but pocketcloud, aws or ssh://user@host is refused with the general rule."""
        assert refused(validate.target, value).rule == validate.TARGET_RULE

    @pytest.mark.parametrize(
        "value",
        [
            "ssh://admin:secret@host",
            "ssh://-oProxyCommand=id@host",
            "ssh://1admin@host",
            "ssh://ad min@host",
            "ssh://$(id)@host",
            "ssh://`id`@host",
            "ssh://@host",
            "ssh://" + "u" * 33 + "@host",
            "ssh://adm\u0456n@host",  # Cyrillic i
            "ssh://first.last@host",
        ],
    )
    def test_bad_user(self, value: str) -> None:
        """The user is a login name: no password, no flag, no shell characters."""
        assert refused(validate.target, value).rule == validate.USER_RULE

    @pytest.mark.parametrize(
        "value",
        [
            "ssh://admin@host/srv",
            "ssh://admin@host?x=1",
            "ssh://admin@host#frag",
            "ssh://admin@-oProxyCommand=id",
            "ssh://admin@host;id",
            "ssh://admin@h\nost",
            "ssh://admin@bad_host",
            "ssh://admin@::1",
            "ssh://admin@[::1",
            "ssh://admin@[::1]x",
            "ssh://admin@[fe80::1%eth0]",
            "ssh://admin@[1.2.3.4]",
            "ssh://admin@[]",
            "ssh://admin@",
            "ssh://admin@1.2.3.999",
            "ssh://admin@a@b",
        ],
    )
    def test_bad_host(self, value: str) -> None:
        """The host is a host name, an IPv4 address or a bracketed IPv6 address, and nothing
        follows it but a port."""
        assert refused(validate.target, value).rule == validate.TARGET_HOST_RULE

    @pytest.mark.parametrize(
        "value",
        [
            "ssh://admin@host:",
            "ssh://admin@host:0",
            "ssh://admin@host:65536",
            "ssh://admin@host:022",
            "ssh://admin@host:22/srv",
            "ssh://admin@host:ssh",
            "ssh://admin@[::1]:",
            "ssh://admin@host:\uff12\uff12",
        ],
    )
    def test_bad_port(self, value: str) -> None:
        """The port is 1-65535, written plainly."""
        assert refused(validate.target, value).rule == validate.PORT_RULE

    def test_message(self) -> None:
        """The message names --target and the whole value."""
        assert str(refused(validate.target, "ssh://admin:pw@host")) == (
            "--target 'ssh://admin:pw@host': the user in ssh://user@host[:port] is a login name "
            "of 1-32 letters, digits, '_' and '-', not starting with a digit or '-', "
            "with no password"
        )


GOOD: dict[str, Any] = {
    "target": "ssh://admin@Example.com",
    "app": "shop",
    "python": "python3",
    "ssh_from": "203.0.113.7",
    "domains": ["Shop.example.com", "shop.example.com.", "203.0.113.7"],
    "workers": 3,
    "keep": 5,
}


class TestCheckOptions:
    def test_normalizes(self) -> None:
        """Every option comes back normalized; domains become a tuple without repeats."""
        assert validate.check_options(**GOOD) == {
            "target": "ssh://admin@example.com",
            "app": "shop",
            "python": "python3",
            "ssh_from": "203.0.113.7/32",
            "domains": ("shop.example.com", "203.0.113.7"),
            "workers": 3,
            "keep": 5,
            "bucket": None,
        }

    def test_optional_none(self) -> None:
        """app, ssh_from and workers may be None; no domains is an empty tuple."""
        checked = validate.check_options(
            **{**GOOD, "app": None, "ssh_from": None, "domains": None, "workers": None}
        )
        assert (checked["app"], checked["ssh_from"], checked["workers"]) == (None, None, None)
        assert checked["domains"] == ()

    def test_required_none(self) -> None:
        """target, python and keep may not be None."""
        for name in ("target", "python", "keep"):
            with pytest.raises(InvalidOption):
                validate.check_options(**{**GOOD, name: None})

    def test_first_error(self) -> None:
        """The first broken option, in parameter order, is the one reported."""
        with pytest.raises(InvalidOption) as info:
            validate.check_options(**{**GOOD, "app": "A", "domains": ["$(id)"], "keep": 0})
        assert info.value.option == "--app"
        with pytest.raises(InvalidOption) as info:
            validate.check_options(**{**GOOD, "domains": ["ok.example", INJECTION], "keep": 0})
        assert (info.value.option, info.value.value) == ("--domain", INJECTION)

    @pytest.mark.parametrize("name", ["my-media", "media.example.com", "abc", "a" * 63])
    def test_bucket_names(self, name: str) -> None:
        """--bucket takes an S3 bucket name on a cloud target, as given."""
        assert (
            validate.check_options(**{**GOOD, "target": "pocketcloud", "bucket": name})["bucket"]
            == name
        )

    @pytest.mark.parametrize(
        "name", ["ab", "My-Media", "a..b", "-ab", "ab-", "10.1.2.3", "a" * 64, "a b", "$(id)"]
    )
    def test_bad_bucket_names(self, name: str) -> None:
        """Other names are refused with S3's naming rule."""
        with pytest.raises(InvalidOption) as info:
            validate.check_options(**{**GOOD, "target": "pocketcloud", "bucket": name})
        assert info.value.option == "--bucket"

    def test_bucket_needs_a_cloud(self) -> None:
        """An ssh:// target has no cloud to make a bucket and role in: refused."""
        with pytest.raises(InvalidOption) as info:
            validate.check_options(**{**GOOD, "bucket": "my-media"})
        assert "cloud target" in str(info.value)

    def test_one_domain_string(self) -> None:
        """A single name given where a list was meant is one domain, not its letters."""
        assert validate.check_options(**{**GOOD, "domains": "example.com"})["domains"] == (
            "example.com",
        )


def host_names() -> st.SearchStrategy[str]:
    """RFC 1123 names built from labels, in mixed case, whose last label is not all digits."""
    label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", fullmatch=True)
    last = label.filter(lambda text: not text.isdigit())
    names = st.builds(lambda head, tail: ".".join([*head, tail]), st.lists(label, max_size=4), last)
    return names.filter(lambda name: len(name) <= 253)


def ssh_urls() -> st.SearchStrategy[str]:
    """ssh URLs whose user, host and port are each either well formed or arbitrary."""
    user = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), NEAR)
    v6 = st.ip_addresses(v=6).map("[{}]".format)
    host = st.one_of(host_names(), v6, NEAR)
    port = st.one_of(st.just(""), st.integers(-1, 70000).map(":{}".format), NEAR.map(":{}".format))
    return st.builds("ssh://{}@{}{}".format, user, host, port)


def candidates() -> st.SearchStrategy[str]:
    """Arbitrary text, and values built from parts that are each either well formed or
    arbitrary (so some are accepted and many are near misses)."""
    word = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True), NEAR)
    return st.one_of(
        st.text(),
        NEAR,
        host_names(),
        st.from_regex(r"[a-z][a-z0-9-]{0,39}"),  # arbitrary text may surround the match
        st.from_regex(r"python3(\.[0-9]{1,2})?|3\.[0-9]{1,2}(\.[0-9])?"),
        st.lists(word, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
        ssh_urls(),
    )


def accepted(check: Callable[[Any], Any], value: object) -> Any:
    """The check's answer, or None if it refused the value."""
    try:
        return check(value)
    except InvalidOption:
        return None


class TestProperties:
    @settings(max_examples=500, deadline=None, database=None)
    @given(name=st.sampled_from(TEXT_CHECKS), value=candidates())
    def test_accepted_values_are_shell_safe(self, name: str, value: str) -> None:
        """Whatever domain, app_name, python or target accepts, given and returned, holds only
        letters, digits and . _ : / @ [ ] + -; domain, app and python values need no quoting."""
        result = accepted(CHECKS[name], value)
        if result is None:
            return
        assert SAFE.fullmatch(value)
        assert SAFE.fullmatch(result)
        assert not result.startswith("-")
        if name != "target":
            assert shlex.quote(result) == result

    @settings(max_examples=300, deadline=None, database=None)
    @given(value=ssh_urls())
    def test_accepted_targets_are_shell_safe(self, value: str) -> None:
        """An accepted ssh target holds only safe characters, and its login neither starts with
        '-' nor carries a password."""
        result = accepted(validate.target, value)
        if result is None:
            return
        assert SAFE.fullmatch(value)
        assert SAFE.fullmatch(result)
        login = result.removeprefix("ssh://").split("@")[0]
        assert not login.startswith("-")
        assert ":" not in login

    @settings(max_examples=300, deadline=None, database=None)
    @given(name=st.sampled_from(sorted(CHECKS)), value=st.one_of(candidates(), st.integers()))
    def test_only_invalid_option_escapes(self, name: str, value: object) -> None:
        """For any text or number every check returns or raises InvalidOption, nothing else;
        and the message is one line."""
        try:
            CHECKS[name](value)
        except InvalidOption as error:
            message = str(error)
        else:
            return
        assert "\n" not in message
        assert message.isascii()

    @settings(max_examples=200, deadline=None, database=None)
    @given(name=st.sampled_from(sorted(CHECKS)), value=candidates())
    def test_idempotent(self, name: str, value: str) -> None:
        """A normalized value passes its check again unchanged."""
        result = accepted(CHECKS[name], value)
        if result is not None:
            assert CHECKS[name](result) == result

    @settings(max_examples=200, deadline=None, database=None)
    @given(name=host_names(), dot=st.booleans())
    def test_host_names_accepted(self, name: str, dot: bool) -> None:
        """Every RFC 1123 name built from valid labels is accepted, in lower case."""
        assert validate.domain(name + "." * dot) == name.lower()
        assert validate.target(f"ssh://admin@{name}:22") == f"ssh://admin@{name.lower()}:22"

    @settings(max_examples=200, deadline=None, database=None)
    @given(address=st.ip_addresses(), data=st.data())
    def test_networks_accepted(self, address: Any, data: st.DataObject) -> None:
        """Every network, written with its prefix, comes back as the same CIDR text."""
        prefix = data.draw(st.integers(0, address.max_prefixlen))
        network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        assert validate.ssh_from(str(network)) == str(network)
        assert validate.ssh_from(str(address)) == str(ipaddress.ip_network(address))
