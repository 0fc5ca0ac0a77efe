//! What the fleet needs to know of each carrier, in one place: each rule is one small function
//! with one match on the carrier (or its query), so the carrier registry can take them over.

use crate::model::{Carrier, SubjectKind};

/// Carrier names as people write them in a list.
pub fn parse_carrier_name(name: &str) -> Option<Carrier> {
    let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    match n.as_str() {
        "vodafone-vrs" | "vodafone" | "vrs" => Some(Carrier::VodafoneVrs),
        "telecomx" => Some(Carrier::Telecomx),
        "thingspace" | "verizon" | "verizon-thingspace" => Some(Carrier::Thingspace),
        "control-center" | "controlcenter" | "cisco" | "jasper" | "cisco-control-center" => {
            Some(Carrier::ControlCenter)
        }
        _ => None,
    }
}

/// The identifier kinds each carrier's usage API takes.
pub fn kinds_of(carrier: Carrier) -> &'static [SubjectKind] {
    match carrier {
        Carrier::VodafoneVrs => &[SubjectKind::Imsi],
        Carrier::Telecomx => &[SubjectKind::Account],
        Carrier::ControlCenter => &[SubjectKind::Iccid],
        Carrier::Thingspace => &[
            SubjectKind::Iccid,
            SubjectKind::Imei,
            SubjectKind::Meid,
            SubjectKind::Mdn,
            SubjectKind::Msisdn,
            SubjectKind::Esn,
            SubjectKind::Eid,
        ],
    }
}
