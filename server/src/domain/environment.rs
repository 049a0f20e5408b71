//! The environment classes the dashboard's funnel counts (`Environment::as_str` of the shared
//! crate): names only, never a User-Agent, so nothing personal is kept.

use paybridge_shared::Environment;

/// Every class, in the order the dashboard lists them.
pub const CLASSES: [&str; 7] = [
    "wechat",
    "wechat_mini_program",
    "mobile",
    "desktop",
    "wechat_desktop",
    "wecom",
    "alipay",
];

/// The class called `name`, if it is one.
#[must_use]
pub fn class(name: &str) -> Option<&'static str> {
    CLASSES.iter().copied().find(|c| *c == name)
}

/// The class of `environment`.
#[must_use]
pub const fn of(environment: Environment) -> &'static str {
    environment.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_environment_has_a_listed_class() {
        for e in [
            Environment::Wechat,
            Environment::WechatMiniProgram,
            Environment::WechatDesktop,
            Environment::WeCom { mobile: true },
            Environment::WeCom { mobile: false },
            Environment::Alipay,
            Environment::Mobile,
            Environment::Desktop,
        ] {
            assert_eq!(class(of(e)), Some(e.as_str()));
        }
        assert_eq!(class("Desktop"), None);
        assert_eq!(class(""), None);
    }
}
