//! Which addresses paybridge may send a merchant's webhooks to in live mode: public ones, and
//! private ones only when the operator lists their network. A webhook URL is the merchant's
//! input; without this a key holder could make the server call its own admin ports, the cloud
//! metadata service (169.254.169.254) or anything else on the internal network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Whether `ip` is reachable on the public internet: not loopback, private (RFC 1918),
/// link-local, carrier-grade NAT (100.64/10), unique-local (fc00::/7), unspecified, multicast,
/// broadcast, documentation or otherwise reserved.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT, 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique-local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // NAT64 64:ff9b::/96 reaches IPv4 space, private parts included.
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// Whether a webhook may go to `ip`: a public address, or one inside an allowed network.
#[must_use]
pub fn may_send_to(ip: IpAddr, allowed: &[IpNet]) -> bool {
    is_public(ip) || allowed.iter().any(|net| net.contains(&ip))
}

/// Whether a webhook URL may be sent to as far as the URL itself says: an address written in
/// it (or `localhost`) must be one a webhook may go to; any other name is checked as it
/// resolves, at each delivery.
#[must_use]
pub fn url_may_be_sent_to(url: &str, allowed: &[IpNet]) -> bool {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()));
    let ip = match host {
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) | None => return true,
    };
    may_send_to(ip, allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "1.1.1.1",
            "100.128.0.1",
            "203.119.1.1",
            "2400:3200::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn an_allowed_network_admits_its_private_addresses_only() {
        let allowed: Vec<IpNet> = vec!["10.0.5.0/24".parse().unwrap()];
        assert!(may_send_to("10.0.5.7".parse().unwrap(), &allowed));
        assert!(!may_send_to("10.0.6.7".parse().unwrap(), &allowed));
        assert!(may_send_to("1.1.1.1".parse().unwrap(), &allowed));
    }
}
