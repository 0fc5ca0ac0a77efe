//! What the fleet asks of each carrier, through its spec ([`crate::carriers::CarrierSpec`]):
//! the query for one subject over the fleet's period and the scope its token is shared in.

use super::controller::FleetPeriod;
use super::list::FleetEntry;
use crate::carriers::UsageRequest;
use crate::fetch::UsageQuery;

/// What one subject of the list asks of its carrier over the fleet's period: a carrier with its
/// own billing cycles is asked for its current one (or, with a billing day, the cycle to date).
pub fn query_for(entry: &FleetEntry, period: &FleetPeriod) -> Result<UsageQuery, String> {
    entry.carrier.spec().query(&UsageRequest {
        subject: Some(entry.subject.clone()),
        period: Some((period.earliest, period.latest)),
        current: true,
        cycle_to_date: period.billing_day,
        ..UsageRequest::default()
    })
}

/// Which credentials a subject is fetched with, beyond its carrier (Vodafone issues tokens per
/// country): the key of the token and session caches.
pub fn credential_scope(entry: &FleetEntry) -> String {
    entry.carrier.spec().token_scope(&entry.subject)
}

/// Whether the fleet's credentials for `carrier` buy a token that later subjects of the same
/// scope reuse (see [`crate::carriers::CarrierSpec::issues_tokens`]).
pub fn shares_token(carrier: crate::model::Carrier) -> bool {
    carrier.spec().issues_tokens()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carriers::AccountFilter;
    use crate::model::{Carrier, Subject, SubjectKind};

    fn entry(carrier: Carrier, kind: SubjectKind, id: &str) -> FleetEntry {
        FleetEntry {
            carrier,
            subject: Subject::new(kind, id),
            line: 1,
        }
    }

    #[test]
    fn queries_and_scopes_follow_the_carrier() {
        let period = FleetPeriod {
            earliest: 1_704_067_200, // 2024-01-01
            latest: 1_709_251_199,   // 2024-02-29 23:59:59
            billing_day: None,
        };
        let cc = entry(
            Carrier::ControlCenter,
            SubjectKind::Iccid,
            "8988216716970004973",
        );
        assert!(matches!(
            query_for(&cc, &period),
            Ok(UsageQuery::ControlCenter {
                cycle_start: None,
                ..
            })
        ));
        let ctd = FleetPeriod {
            billing_day: Some(10),
            ..period
        };
        assert!(matches!(
            query_for(&cc, &ctd),
            Ok(UsageQuery::ControlCenterCtd {
                billing_day: 10,
                ..
            })
        ));
        let tx = entry(
            Carrier::Telecomx,
            SubjectKind::Account,
            "553ca0f477392ee4106e9526",
        );
        assert!(matches!(
            query_for(&tx, &period),
            Ok(UsageQuery::Telecomx {
                from: (2024, 1),
                to: (2024, 2),
                ..
            })
        ));
        let vf = entry(Carrier::VodafoneVrs, SubjectKind::Imsi, "262021234567890");
        assert_eq!(
            credential_scope(&vf),
            "262",
            "Vodafone tokens are per country"
        );
        assert_eq!(credential_scope(&cc), "");
        assert!(shares_token(Carrier::Thingspace) && !shares_token(Carrier::ControlCenter));
    }

    #[test]
    fn account_listings_are_for_the_carriers_that_list_devices() {
        let filter = |since: &str| AccountFilter {
            since: since.into(),
            ..AccountFilter::default()
        };
        let listing = |c: Carrier| c.spec().device_listing();
        let cc = listing(Carrier::ControlCenter).unwrap();
        let since = cc.query(&filter("")).unwrap_err();
        assert!(since.contains("Control Center requires one"), "{since}");
        assert!(cc.query(&filter("2024-01-31")).is_ok());
        assert!(listing(Carrier::Thingspace)
            .unwrap()
            .query(&filter(""))
            .is_ok());
        assert!(listing(Carrier::Telecomx).is_none());
        assert!(listing(Carrier::VodafoneVrs).is_none());
    }
}
