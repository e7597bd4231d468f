//! Word lists for believable demo companies and people.

/// First half of a company name.
pub const COMPANY_A: &[&str] = &[
    "Northwind",
    "Bluebird",
    "Granite",
    "Helios",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchard",
    "Pinnacle",
    "Quarry",
    "Redwood",
    "Saffron",
    "Tidewater",
    "Umber",
    "Vantage",
    "Willow",
    "Yarrow",
    "Zephyr",
    "Alder",
    "Beacon",
    "Cobalt",
    "Driftwood",
    "Ember",
    "Fathom",
    "Glacier",
    "Harbor",
    "Ironclad",
    "Jasper",
    "Keystone",
    "Lodestar",
    "Mosaic",
    "Nautilus",
    "Onyx",
    "Prairie",
    "Quill",
    "Riverbend",
    "Sterling",
    "Trellis",
];

/// Second half of a company name.
pub const COMPANY_B: &[&str] = &[
    "Logistics",
    "Health",
    "Labs",
    "Foods",
    "Analytics",
    "Robotics",
    "Retail",
    "Energy",
    "Media",
    "Capital",
    "Freight",
    "Clinics",
    "Software",
    "Textiles",
    "Studios",
    "Outdoors",
    "Pharma",
    "Legal",
    "Travel",
    "Dental",
    "Motors",
    "Farms",
    "Insurance",
    "Academy",
    "Hotels",
];

/// Industries, indexed alongside `COMPANY_B` loosely.
pub const INDUSTRIES: &[&str] = &[
    "Logistics",
    "Healthcare",
    "Software",
    "Food & Beverage",
    "Financial Services",
    "Manufacturing",
    "Retail",
    "Energy",
    "Media",
    "Education",
    "Hospitality",
    "Legal",
];

/// Regions.
pub const REGIONS: &[&str] = &["NA East", "NA West", "EMEA", "DACH", "APAC", "LATAM"];

/// CSMs who own the demo book.
pub const OWNERS: &[&str] = &["Dana Whitfield", "Sam Okafor", "Priya Raman"];

/// First names.
pub const FIRST: &[&str] = &[
    "Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya", "Noah",
    "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf", "Zoe",
];

/// Last names.
pub const LAST: &[&str] = &[
    "Adams", "Bauer", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanova", "Johnson", "Kim", "Larsen",
    "Moreau", "Nakamura", "Okoro", "Patel", "Rossi", "Silva", "Tanaka", "Usman", "Varga", "Weber",
];

/// Roles of key people.
pub const ROLES: &[&str] = &["VP Operations", "Head of IT", "COO", "Director of Sales Ops", "CFO", "Team Lead"];

/// Ticket subjects, with whether the answer tends to be complex and whether it is a bug.
pub const SUBJECTS: &[(&str, bool, bool)] = &[
    ("CSV export times out for large reports", true, true),
    ("How do I add a new user to our workspace?", false, false),
    ("SSO login loops back to the sign-in page", true, true),
    ("Invoice shows the wrong number of seats", false, false),
    ("Can we get a discount for 50 more seats?", false, false),
    ("Dashboard numbers differ from the API", true, true),
    ("Feature request: dark mode for reports", false, false),
    ("Webhook retries are duplicating records", true, true),
    ("Need help configuring approval workflows", true, false),
    ("Where do I change the billing contact?", false, false),
    ("Mobile app crashes when uploading photos", false, true),
    ("Data import failed halfway through", true, true),
    ("Question about the new pricing tiers", false, false),
    ("Training session for new hires", false, false),
];

/// Plans by segment.
pub const PLANS: &[&str] = &["Starter", "Pro", "Business", "Enterprise"];
