"""DestinationPolicy: which webhook URLs and addresses are refused, and why."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.safety import BlockedDestination, DestinationPolicy

BLOCKED = [
    # (address, kind)
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared"),
    ("100.127.255.255", "shared"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "reserved"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.0.1", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.19.255.255", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "reserved"),
    ("2001::1", "reserved"),
    ("100::1", "reserved"),
    ("64:ff9b:1::1", "reserved"),
    # IPv6 spellings of IPv4 addresses are judged as the IPv4 address they reach
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:0:10.0.0.1", "private"),  # IPv4-translated (SIIT)
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("::8.8.8.8", "reserved"),  # IPv4-compatible: deprecated even for a public address
    ("64:ff9b::10.0.0.1", "private"),  # NAT64 well-known prefix
    ("64:ff9b::127.0.0.1", "loopback"),
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "11.0.0.1",
    "172.32.0.1",
    "100.128.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80e::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_blocked_addresses_are_refused_with_their_kind(address, kind):
    with pytest.raises(BlockedDestination) as caught:
        DestinationPolicy().check_address(address)
    assert caught.value.kind == kind
    assert "TIMELINE_WEBHOOK_ALLOW_NETWORKS" in str(caught.value)
    assert not DestinationPolicy().is_allowed(address)


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_an_allow_list_entry_covering_the_address_admits_it(address, kind):
    bare = address.split("%")[0]
    policy = DestinationPolicy.from_env(f"{bare}/{32 if ':' not in bare else 128}", allow_http=False)
    policy.check_address(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    DestinationPolicy().check_address(address)
    DestinationPolicy().check_address(ipaddress.ip_address(address))


def test_the_message_names_the_address_and_the_way_out():
    with pytest.raises(BlockedDestination) as caught:
        DestinationPolicy().check_address("10.0.0.5")
    assert str(caught.value) == (
        "webhook URL resolves to 10.0.0.5, a private address; deliveries to private networks are "
        "refused unless TIMELINE_WEBHOOK_ALLOW_NETWORKS covers it"
    )
    assert caught.value.address == "10.0.0.5"


def test_an_embedded_ipv4_address_is_shown_in_the_message():
    with pytest.raises(BlockedDestination, match=r"::ffff:7f00:1 \(IPv4 127\.0\.0\.1\), a loopback address"):
        DestinationPolicy().check_address("::ffff:127.0.0.1")


def test_an_ipv4_allow_list_entry_also_admits_the_mapped_ipv6_spelling():
    policy = DestinationPolicy.from_env("127.0.0.0/8", allow_http=False)
    policy.check_address("::ffff:127.0.0.1")
    with pytest.raises(BlockedDestination):
        policy.check_address("::1")  # not the same host as far as the allow-list is concerned


def test_an_allow_list_admits_only_what_it_covers():
    policy = DestinationPolicy.from_env("10.0.0.0/24", allow_http=False)
    policy.check_address("10.0.0.200")
    with pytest.raises(BlockedDestination):
        policy.check_address("10.0.1.1")


def test_garbage_is_not_an_address():
    with pytest.raises(BlockedDestination) as caught:
        DestinationPolicy().check_address("not-an-ip")
    assert caught.value.kind == "invalid-address"


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_mapped_spelling_get_the_same_verdict(ip):
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    assert DestinationPolicy().is_allowed(ip) == DestinationPolicy().is_allowed(mapped)
    nat64 = ipaddress.IPv6Address(f"64:ff9b::{ip}")
    assert DestinationPolicy().is_allowed(ip) == DestinationPolicy().is_allowed(nat64)


@given(st.ip_addresses())
def test_every_address_is_allowed_once_the_whole_space_is_allow_listed(ip):
    assert DestinationPolicy.from_env("0.0.0.0/0,::/0", allow_http=False).is_allowed(ip)


@given(st.ip_addresses(v=4, network="10.0.0.0/8") | st.ip_addresses(v=6, network="fc00::/7"))
def test_private_ranges_are_refused_throughout(ip):
    assert not DestinationPolicy().is_allowed(ip)


# --- from_env -------------------------------------------------------------------------------


def test_from_env_parses_comma_separated_networks():
    policy = DestinationPolicy.from_env(" 10.0.0.0/8 , fd00::/8,,127.0.0.1 ", allow_http=True)
    assert policy.allow_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )
    assert policy.allow_http is True


def test_from_env_accepts_the_split_tuple_from_settings():
    policy = DestinationPolicy.from_env(("10.0.0.0/8",), allow_http=False)
    assert policy.allow_networks == (ipaddress.ip_network("10.0.0.0/8"),)


def test_from_env_empty_means_nothing_allowed():
    assert DestinationPolicy.from_env("", allow_http=False) == DestinationPolicy()


@pytest.mark.parametrize("entry", ["banana", "10.0.0.0/33", "300.1.1.1", "fd00::/129"])
def test_from_env_refuses_bad_entries_clearly(entry):
    with pytest.raises(ValueError, match=r"TIMELINE_WEBHOOK_ALLOW_NETWORKS entry .* CIDR"):
        DestinationPolicy.from_env(f"10.0.0.0/8,{entry}", allow_http=False)


def test_from_env_suggests_the_network_when_host_bits_are_set():
    with pytest.raises(ValueError, match=r"did you mean 10\.0\.0\.0/8\?"):
        DestinationPolicy.from_env("10.0.0.5/8", allow_http=False)


# --- check_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook", "https://hooks.example.com:8443/a?b=c", "https://exämple.de/", "https://8.8.8.8/"],
)
def test_good_urls_pass(url):
    DestinationPolicy().check_url(url)


def test_a_host_name_is_not_resolved_by_check_url():
    # localhost is refused at connect time (see the integration tests), like any other name.
    DestinationPolicy().check_url("https://localhost/hook")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://example.com/hook", "scheme"),
        ("ftp://example.com/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("example.com/hook", "scheme"),
        ("https://user:pw@example.com/hook", "userinfo"),
        ("https://user@example.com/hook", "userinfo"),
        ("https:///hook", "invalid-url"),
        ("https://[::1/", "invalid-url"),
        ("https://10.0.0.5/hook", "private"),
        ("https://127.0.0.1:8443/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[fe80::1%25eth0]/", "link-local"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        # legacy IPv4 spellings that getaddrinfo would also accept
        ("https://2130706433/", "loopback"),
        ("https://0x7f.1/", "loopback"),
        ("https://127.1/", "loopback"),
        ("https://0/", "unspecified"),
    ],
)
def test_bad_urls_are_refused(url, kind):
    with pytest.raises(BlockedDestination) as caught:
        DestinationPolicy().check_url(url)
    assert caught.value.kind == kind


def test_plain_http_needs_the_flag_and_says_so():
    with pytest.raises(BlockedDestination, match="TIMELINE_WEBHOOK_ALLOW_HTTP"):
        DestinationPolicy().check_url("http://example.com/")
    DestinationPolicy(allow_http=True).check_url("http://example.com/")


def test_plain_http_to_loopback_is_still_refused_with_allow_http():
    with pytest.raises(BlockedDestination) as caught:
        DestinationPolicy(allow_http=True).check_url("http://127.0.0.1:8080/")
    assert caught.value.kind == "loopback"


def test_allow_listed_literal_passes():
    DestinationPolicy.from_env("127.0.0.0/8", allow_http=True).check_url("http://127.0.0.1:8080/")


def test_the_constructor_also_takes_cidr_strings():
    policy = DestinationPolicy(allow_networks=("10.0.0.0/8", ipaddress.ip_network("fd00::/8")))
    assert policy == DestinationPolicy.from_env("10.0.0.0/8,fd00::/8", allow_http=False)
    policy.check_address("10.9.9.9")
    with pytest.raises(ValueError, match="TIMELINE_WEBHOOK_ALLOW_NETWORKS"):
        DestinationPolicy(allow_networks=("nope",))
