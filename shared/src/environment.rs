//! Where the shopper is: the environment classes of DESIGN §2 and the pure `detect` function that
//! both the server (request `User-Agent`) and the page (`navigator.userAgent` plus
//! `window.__wxjs_environment` and `navigator.maxTouchPoints`) use to pick a payment flow.
//!
//! Detection is a handful of case-insensitive substring searches over the User-Agent; it never
//! allocates. Precedence, first match wins:
//!
//! 1. `__wxjs_environment === "miniprogram"` → [`Environment::WechatMiniProgram`]. Only a WeChat
//!    (or WeCom) mini program web-view sets it, and on iOS the UA often carries no mini program
//!    token at all, so the hint beats every UA token.
//! 2. `MicroMessenger` together with `miniProgram` / `MiniProgramEnv` →
//!    [`Environment::WechatMiniProgram`]. Alipay's mini program web-view also says `MiniProgram`,
//!    which is why the token only counts next to `MicroMessenger`.
//! 3. `wxwork` → [`Environment::WeCom`]. WeCom's UA also contains `MicroMessenger` (and on Windows
//!    `WindowsWechat`), so it is checked before them; `mobile` tells a phone from a desktop client.
//! 4. `WindowsWechat` / `MacWechat` → [`Environment::WechatDesktop`], whatever else the UA says.
//! 5. `MicroMessenger` → [`Environment::Wechat`] on a phone or tablet, otherwise
//!    [`Environment::WechatDesktop`] (WeChat for Linux and older desktop builds lack the tokens above).
//! 6. `AlipayClient` → [`Environment::Alipay`].
//! 7. A phone or tablet → [`Environment::Mobile`]; anything else (desktop browsers, bots, curl, an
//!    empty UA) → [`Environment::Desktop`].
//!
//! "Phone or tablet" means a mobile token in the UA (`Mobi`, `Android`, `iPhone`, `iPad`, `iPod`,
//! `OpenHarmony` phone/tablet, `Windows Phone`, …) or an iPad in disguise: iPadOS 13+ Safari sends a
//! Macintosh desktop UA, which only [`Hints::max_touch_points`] > 1 tells apart from a real Mac.
//! The touch hint is trusted for Macintosh UAs only: Windows and Linux laptops have touch screens too.

use serde::{Deserialize, Serialize};

/// The shopper's environment, which decides the payment flow (DESIGN §2).
///
/// On the wire (shopper API JSON) the classes are the snake_case strings `"wechat"`,
/// `"wechat_mini_program"`, `"wechat_desktop"`, `"alipay"`, `"mobile"` and `"desktop"`; WeCom carries
/// its device as data: `{"wecom":{"mobile":true}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// WeChat's in-app browser on a phone or tablet: OAuth → JSAPI.
    Wechat,
    /// A web-view inside a WeChat mini program: hand over to the mini program's own pay page.
    WechatMiniProgram,
    /// WeChat for Windows or macOS (or another desktop OS): Native QR.
    WechatDesktop,
    /// WeCom (企业微信): H5 on a phone, Native QR on a desktop.
    #[serde(rename = "wecom")]
    WeCom {
        /// The WeCom client runs on a phone or tablet.
        mobile: bool,
    },
    /// The Alipay app's in-app browser.
    Alipay,
    /// Any other phone or tablet browser, including other apps' in-app browsers and iPads.
    Mobile,
    /// Everything else: desktop browsers, bots, command line clients.
    Desktop,
}

impl Environment {
    /// Stable snake_case name of the class, as used on the wire (without WeCom's device flag).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Wechat => "wechat",
            Self::WechatMiniProgram => "wechat_mini_program",
            Self::WechatDesktop => "wechat_desktop",
            Self::WeCom { .. } => "wecom",
            Self::Alipay => "alipay",
            Self::Mobile => "mobile",
            Self::Desktop => "desktop",
        }
    }

    /// Whether the shopper holds the device in hand (phone or tablet), so a QR code on this screen
    /// cannot be scanned by it: true for every class except the desktop ones and desktop WeCom.
    #[must_use]
    pub const fn is_mobile_device(self) -> bool {
        match self {
            Self::Wechat | Self::WechatMiniProgram | Self::Alipay | Self::Mobile => true,
            Self::WeCom { mobile } => mobile,
            Self::WechatDesktop | Self::Desktop => false,
        }
    }
}

impl std::fmt::Display for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the page knows beyond the User-Agent. The server has none of it and passes
/// `Hints::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hints {
    /// `window.__wxjs_environment` (`"miniprogram"` inside a mini program web-view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wxjs_environment: Option<String>,
    /// `navigator.maxTouchPoints`; more than 1 on a Macintosh UA means an iPad.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_touch_points: Option<u32>,
}

impl Hints {
    /// Whether `__wxjs_environment` says this is a mini program web-view.
    fn in_mini_program(&self) -> bool {
        self.wxjs_environment
            .as_deref()
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("miniprogram"))
    }

    /// Whether the device reports a multi-touch screen.
    fn multi_touch(&self) -> bool {
        self.max_touch_points.is_some_and(|points| points > 1)
    }
}

/// Classifies a User-Agent (plus the page's hints) into the [`Environment`] that picks the payment
/// flow. Pure and allocation-free; see the module documentation for the rules and their order.
#[must_use]
pub fn detect(user_agent: &str, hints: &Hints) -> Environment {
    let ua = user_agent.as_bytes();
    let has = |token: &str| contains_ignore_case(ua, token.as_bytes());

    if hints.in_mini_program() {
        return Environment::WechatMiniProgram;
    }
    let wechat = has("MicroMessenger");
    if wechat && has("miniProgram") {
        // Also matches `MiniProgramEnv/android`, `MiniProgramEnv/Windows`, ….
        return Environment::WechatMiniProgram;
    }
    if has("wxwork") {
        return Environment::WeCom {
            mobile: is_mobile_device(ua, hints),
        };
    }
    if has("WindowsWechat") || has("MacWechat") {
        return Environment::WechatDesktop;
    }
    if wechat {
        return if is_mobile_device(ua, hints) {
            Environment::Wechat
        } else {
            Environment::WechatDesktop
        };
    }
    if has("AlipayClient") {
        return Environment::Alipay;
    }
    if is_mobile_device(ua, hints) {
        Environment::Mobile
    } else {
        Environment::Desktop
    }
}

/// Tokens that only phones and tablets send.
const MOBILE_TOKENS: &[&str] = &[
    "Mobi", // `Mobile`, `Mobile Safari`, `IEMobile`, Mozilla's advice for "is this a phone"
    "Android",
    "iPhone",
    "iPad",
    "iPod",
    "(Phone;",  // HarmonyOS NEXT: `(Phone; OpenHarmony 5.0)`
    "(Tablet;", // HarmonyOS NEXT tablets, Firefox OS tablets
    "Windows Phone",
    "BlackBerry",
    "BB10",
    "Opera Mini",
    "Kindle",
    "Silk/",
    // Feature phones and older mobile systems, whose browsers say neither `Mobi` nor a phone OS
    // above: Symbian (`SymbianOS`, `SymbOS`, Nokia's `Series60`/`Series40`), KaiOS, and Java ME
    // handsets (`MIDP`, `CLDC`, `J2ME`).
    "Symbian",
    "SymbOS",
    "Series60",
    "Series40",
    "KAIOS",
    "MIDP",
    "CLDC",
    "J2ME",
];

/// Whether the UA (or, for iPadOS's desktop-class UA, the touch hint) says phone or tablet.
fn is_mobile_device(ua: &[u8], hints: &Hints) -> bool {
    MOBILE_TOKENS
        .iter()
        .any(|token| contains_ignore_case(ua, token.as_bytes()))
        || (hints.multi_touch() && contains_ignore_case(ua, b"Macintosh"))
}

/// ASCII case-insensitive substring search.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x1800282a) NetType/WIFI Language/zh_CN";
    const ANDROID_WECHAT: &str = "Mozilla/5.0 (Linux; Android 10; V1981A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2691 MMWEBSDK/200801 Mobile Safari/537.36 MMWEBID/6201 MicroMessenger/7.0.18.1740(0x2700123B) Process/toolsmp WeChat/arm64 NetType/WIFI Language/zh_CN ABI/arm64";
    const IPAD_DESKTOP_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
    const WECOM_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.0.0 MicroMessenger/7.0.1 Language/zh ColorScheme/Light";
    const WECOM_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/53.0.2785.116 Safari/537.36 QBCore/4.0.1301.400 QQBrowser/9.0.2524.400 Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63010200) wxwork/3.1.16 (MicroMessenger/6.2) WindowsWechat";

    fn hints(wxjs: Option<&str>, touch: Option<u32>) -> Hints {
        Hints {
            wxjs_environment: wxjs.map(str::to_owned),
            max_touch_points: touch,
        }
    }

    #[test]
    fn mini_program_hint_beats_everything() {
        let mp = hints(Some("miniprogram"), None);
        for ua in [
            IPHONE_WECHAT,
            ANDROID_WECHAT,
            WECOM_IPHONE,
            WECOM_WINDOWS,
            IPAD_DESKTOP_SAFARI,
            "curl/8.5.0",
            "",
        ] {
            assert_eq!(detect(ua, &mp), Environment::WechatMiniProgram, "{ua}");
        }
        // Other values, or none, leave the UA in charge.
        assert_eq!(
            detect(IPHONE_WECHAT, &hints(Some("browser"), None)),
            Environment::Wechat
        );
        assert_eq!(
            detect(IPHONE_WECHAT, &Hints::default()),
            Environment::Wechat
        );
        assert_eq!(
            detect(IPHONE_WECHAT, &hints(Some(" MiniProgram "), None)),
            Environment::WechatMiniProgram
        );
    }

    #[test]
    fn mini_program_ua_tokens_need_wechat() {
        let android_mp = format!("{ANDROID_WECHAT} miniProgram");
        assert_eq!(
            detect(&android_mp, &Hints::default()),
            Environment::WechatMiniProgram
        );
        let env = ANDROID_WECHAT.replace(
            "Process/toolsmp",
            "Process/appbrand0 MiniProgramEnv/android",
        );
        assert_eq!(
            detect(&env, &Hints::default()),
            Environment::WechatMiniProgram
        );
        // Alipay's mini program web-view says `MiniProgram` too: that is Alipay.
        let alipay_mp = "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ChannelId(0) Nebula PSDType(1) AlipayDefined(nt:WIFI,ws:414|832|3.0) AliApp(AP/10.2.13.6000) AlipayClient/10.2.13.6000 Language/zh-Hans Region/CN NebulaX/1.0.0 MiniProgram";
        assert_eq!(detect(alipay_mp, &Hints::default()), Environment::Alipay);
    }

    #[test]
    fn wecom_beats_micromessenger_and_knows_its_device() {
        assert_eq!(
            detect(WECOM_IPHONE, &Hints::default()),
            Environment::WeCom { mobile: true }
        );
        assert_eq!(
            detect(WECOM_WINDOWS, &Hints::default()),
            Environment::WeCom { mobile: false }
        );
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) wxwork/4.1.0 MicroMessenger/7.0.1 Language/zh ColorScheme/Light";
        assert_eq!(
            detect(mac, &Hints::default()),
            Environment::WeCom { mobile: false }
        );
        assert_eq!(
            detect(mac, &hints(None, Some(0))),
            Environment::WeCom { mobile: false }
        );
    }

    #[test]
    fn desktop_wechat_tokens_beat_mobile_tokens() {
        let odd = "Mozilla/5.0 (Linux; Android 9) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 MicroMessenger/7.0.9.501 NetType/WIFI WindowsWechat";
        assert_eq!(detect(odd, &Hints::default()), Environment::WechatDesktop);
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) MacWechat/3.8.7(0x13080710) Safari/605.1.15 NetType/WIFI";
        assert_eq!(
            detect(mac, &hints(None, Some(5))),
            Environment::WechatDesktop
        );
        // WeChat without a desktop token on a desktop OS is still the desktop client.
        let linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 MicroMessenger/7.0.20.1781 NetType/WIFI";
        assert_eq!(detect(linux, &Hints::default()), Environment::WechatDesktop);
    }

    #[test]
    fn ipad_desktop_ua_needs_the_touch_hint() {
        assert_eq!(
            detect(IPAD_DESKTOP_SAFARI, &Hints::default()),
            Environment::Desktop
        );
        assert_eq!(
            detect(IPAD_DESKTOP_SAFARI, &hints(None, Some(1))),
            Environment::Desktop
        );
        assert_eq!(
            detect(IPAD_DESKTOP_SAFARI, &hints(None, Some(5))),
            Environment::Mobile
        );
        // A touch screen on Windows or Linux is still a desktop.
        let windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(
            detect(windows, &hints(None, Some(10))),
            Environment::Desktop
        );
        let ipad = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1";
        assert_eq!(detect(ipad, &Hints::default()), Environment::Mobile);
    }

    #[test]
    fn feature_phones_and_older_mobile_systems_are_phones() {
        // Real-world User-Agents, one or more per family.
        let phones = [
            // Symbian / S60 (Nokia's browser, and a UC Browser build)
            "Mozilla/5.0 (SymbianOS/9.4; Series60/5.0 NokiaN97-1/12.0.024; Profile/MIDP-2.1 Configuration/CLDC-1.1; en-us) AppleWebKit/525 (KHTML, like Gecko) BrowserNG/7.1.18124",
            "NokiaC5-00/061.005 (SymbianOS/9.3; U; Series60/3.2 Mozilla/5.0; Profile/MIDP-2.1 Configuration/CLDC-1.1) AppleWebKit/525 (KHTML, like Gecko) Version/3.0 Safari/525 3gpp-gba",
            // Nokia Series 40
            "Nokia2700c-2/2.0 (09.95) Profile/MIDP-2.1 Configuration/CLDC-1.1",
            "Mozilla/5.0 (Series40; NokiaX2-02/10.90; Profile/MIDP-2.1 Configuration/CLDC-1.1) Gecko/20100401 S40OviBrowser/1.0.2.26.11",
            // BlackBerry OS 5 and 7
            "BlackBerry9700/5.0.0.862 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/331 UNTRUSTED/1.0 3gpp-gba",
            "Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en) AppleWebKit/534.11+ (KHTML, like Gecko) Version/7.1.0.346 Mobile Safari/534.11+",
            // KaiOS (JioPhone, Nokia 8110 4G)
            "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5",
            "Mozilla/5.0 (Mobile; Nokia_8110_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5",
            // Windows Phone 8 and 10
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
            "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
            // Opera Mini on Java ME and on Android
            "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
            "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16",
            // A Java ME feature phone's own browser
            "SAMSUNG-GT-E2252/E2252DDLA1 Profile/MIDP-2.0 Configuration/CLDC-1.1 UNTRUSTED/1.0",
        ];
        for ua in phones {
            assert_eq!(detect(ua, &Hints::default()), Environment::Mobile, "{ua}");
        }
    }

    #[test]
    fn alipay_and_plain_browsers() {
        let alipay = "Mozilla/5.0 (Linux; U; Android 10; zh-CN; ELE-AL00 Build/HUAWEIELE-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.0.36 Mobile Safari/537.36 AlipayChannelId/5136 UCBS/3.22.0.36_200818125104 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:360|0|3.0) AliApp(AP/10.2.0.8026) AlipayClient/10.2.0.8026 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CN";
        assert_eq!(detect(alipay, &Hints::default()), Environment::Alipay);
        assert_eq!(detect("", &Hints::default()), Environment::Desktop);
        assert_eq!(
            detect("curl/8.5.0", &Hints::default()),
            Environment::Desktop
        );
        assert_eq!(
            detect(
                "mozilla/5.0 (linux; android 14) mobile safari",
                &Hints::default()
            ),
            Environment::Mobile
        );
    }

    #[test]
    fn serde_names_are_stable() -> Result<(), serde_json::Error> {
        let cases = [
            (Environment::Wechat, r#""wechat""#),
            (Environment::WechatMiniProgram, r#""wechat_mini_program""#),
            (Environment::WechatDesktop, r#""wechat_desktop""#),
            (
                Environment::WeCom { mobile: true },
                r#"{"wecom":{"mobile":true}}"#,
            ),
            (
                Environment::WeCom { mobile: false },
                r#"{"wecom":{"mobile":false}}"#,
            ),
            (Environment::Alipay, r#""alipay""#),
            (Environment::Mobile, r#""mobile""#),
            (Environment::Desktop, r#""desktop""#),
        ];
        for (env, json) in cases {
            assert_eq!(serde_json::to_string(&env)?, json);
            assert_eq!(serde_json::from_str::<Environment>(json)?, env);
            assert!(json.contains(env.as_str()));
            assert_eq!(env.to_string(), env.as_str());
        }
        let hints: Hints = serde_json::from_str(r#"{"wxjs_environment":"miniprogram"}"#)?;
        assert_eq!(hints, self::hints(Some("miniprogram"), None));
        assert_eq!(serde_json::from_str::<Hints>("{}")?, Hints::default());
        assert_eq!(serde_json::to_string(&Hints::default())?, "{}");
        Ok(())
    }

    #[test]
    fn mobile_device_accessor() {
        assert!(Environment::WeCom { mobile: true }.is_mobile_device());
        assert!(!Environment::WeCom { mobile: false }.is_mobile_device());
        assert!(Environment::Wechat.is_mobile_device());
        assert!(!Environment::WechatDesktop.is_mobile_device());
        assert!(!Environment::Desktop.is_mobile_device());
    }
}
