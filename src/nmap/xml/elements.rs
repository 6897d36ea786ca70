//! Readers for the attributes of each element the model keeps.

use std::borrow::Cow;
use std::io::BufRead;
use std::str::FromStr;

use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;
use quick_xml::events::attributes::Attribute;

use super::{Parser, Tag, XmlError};
use crate::model::{Address, ExtraPorts, Hostname, OsMatch, RunStats, ScanInfo, Script};

impl<R: BufRead, F: FnMut(crate::model::Host)> Parser<R, F> {
    pub(super) fn open_root(&mut self, e: &BytesStart, name: &str) -> Result<Tag, XmlError> {
        if self.root_closed {
            return Err(self.malformed(format!(
                "<{name}> after </nmaprun>: one file must hold exactly one nmap run"
            )));
        }
        if name != "nmaprun" {
            return Err(XmlError::NotNmap {
                root: truncate(name),
            });
        }
        self.seen_root = true;
        let pos = self.pos;
        for_each_attr(e, pos, |key, a| {
            match key {
                "args" => self.result.args = value(a, pos)?,
                "version" => self.result.nmap_version = value(a, pos)?,
                "start" => self.result.start = Some(number(a, pos, "nmaprun")?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(Tag::Run)
    }

    pub(super) fn host_attrs(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let (pos, host) = (self.pos, &mut self.host);
        for_each_attr(e, pos, |key, a| {
            match key {
                "starttime" => host.starttime = Some(number(a, pos, "host")?),
                "endtime" => host.endtime = Some(number(a, pos, "host")?),
                _ => {}
            }
            Ok(())
        })
    }

    pub(super) fn status(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let (pos, host) = (self.pos, &mut self.host);
        for_each_attr(e, pos, |key, a| {
            match key {
                "state" => host.state = value(a, pos)?,
                "reason" => host.reason = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })
    }

    pub(super) fn address(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut address = Address::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "addr" => address.addr = value(a, pos)?,
                "addrtype" => address.addrtype = value(a, pos)?,
                "vendor" => address.vendor = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })?;
        self.host.addresses.push(address);
        Ok(())
    }

    pub(super) fn hostname(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut hostname = Hostname::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "name" => hostname.name = value(a, pos)?,
                "type" => hostname.kind = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })?;
        self.host.hostnames.push(hostname);
        Ok(())
    }

    pub(super) fn port_attrs(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut protocol = String::new();
        let mut portid = None;
        for_each_attr(e, pos, |key, a| {
            match key {
                "protocol" => protocol = value(a, pos)?,
                "portid" => portid = Some(number(a, pos, "port")?),
                _ => {}
            }
            Ok(())
        })?;
        let Some(portid) = portid else {
            return Err(self.malformed("<port> has no portid attribute".to_owned()));
        };
        self.port.protocol = protocol;
        self.port.portid = portid;
        Ok(())
    }

    pub(super) fn port_state(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let (pos, port) = (self.pos, &mut self.port);
        for_each_attr(e, pos, |key, a| {
            match key {
                "state" => port.state = value(a, pos)?,
                "reason" => port.reason = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })
    }

    pub(super) fn service(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let (pos, s) = (self.pos, &mut self.port.service);
        for_each_attr(e, pos, |key, a| {
            match key {
                "name" => s.name = value(a, pos)?,
                "product" => s.product = value(a, pos)?,
                "version" => s.version = value(a, pos)?,
                "extrainfo" => s.extrainfo = value(a, pos)?,
                "ostype" => s.ostype = value(a, pos)?,
                "tunnel" => s.tunnel = value(a, pos)?,
                "method" => s.method = value(a, pos)?,
                "conf" => s.conf = number(a, pos, "service")?,
                _ => {}
            }
            Ok(())
        })
    }

    pub(super) fn script(&self, e: &BytesStart) -> Result<Script, XmlError> {
        let pos = self.pos;
        let mut script = Script::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "id" => script.id = value(a, pos)?,
                "output" => script.output = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(script)
    }

    /// A script `<table>` or `<elem>`'s `key` (empty when it has none).
    pub(super) fn key(&self, e: &BytesStart) -> Result<String, XmlError> {
        let pos = self.pos;
        let mut key = String::new();
        for_each_attr(e, pos, |name, a| {
            if name == "key" {
                key = value(a, pos)?;
            }
            Ok(())
        })?;
        Ok(key)
    }

    pub(super) fn extraports(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut extra = ExtraPorts::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "state" => extra.state = value(a, pos)?,
                "count" => extra.count = number(a, pos, "extraports")?,
                _ => {}
            }
            Ok(())
        })?;
        self.host.extraports.push(extra);
        Ok(())
    }

    pub(super) fn osmatch(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut os = OsMatch::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "name" => os.name = value(a, pos)?,
                "accuracy" => os.accuracy = number(a, pos, "osmatch")?,
                _ => {}
            }
            Ok(())
        })?;
        self.host.os_matches.push(os);
        Ok(())
    }

    pub(super) fn scaninfo(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let mut info = ScanInfo::default();
        for_each_attr(e, pos, |key, a| {
            match key {
                "type" => info.scan_type = value(a, pos)?,
                "protocol" => info.protocol = value(a, pos)?,
                "numservices" => info.numservices = number(a, pos, "scaninfo")?,
                "services" => info.services = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })?;
        self.result.scaninfo.push(info);
        Ok(())
    }

    pub(super) fn finished(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let pos = self.pos;
        let (end, stats) = (&mut self.result.end, &mut self.result.runstats);
        for_each_attr(e, pos, |key, a| {
            match key {
                "time" => *end = Some(number(a, pos, "finished")?),
                "exit" => stats.exit = value(a, pos)?,
                "summary" => stats.summary = value(a, pos)?,
                "elapsed" => stats.elapsed = number(a, pos, "finished")?,
                "errormsg" => stats.errormsg = value(a, pos)?,
                _ => {}
            }
            Ok(())
        })
    }

    pub(super) fn hosts_count(&mut self, e: &BytesStart) -> Result<(), XmlError> {
        let (pos, stats): (u64, &mut RunStats) = (self.pos, &mut self.result.runstats);
        for_each_attr(e, pos, |key, a| {
            match key {
                "up" => stats.hosts_up = number(a, pos, "hosts")?,
                "down" => stats.hosts_down = number(a, pos, "hosts")?,
                "total" => stats.hosts_total = number(a, pos, "hosts")?,
                _ => {}
            }
            Ok(())
        })
    }
}

/// Calls `f` with each attribute's name. No duplicate check: it is quadratic, and for a
/// duplicated name the last value simply wins.
fn for_each_attr<'a>(
    e: &'a BytesStart,
    pos: u64,
    mut f: impl FnMut(&str, &Attribute<'a>) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|err| XmlError::Malformed {
            position: pos,
            message: format!("in <{}>: {err}", truncate(e.name().as_ref())),
        })?;
        f(attr.key.as_ref(), &attr)?;
    }
    Ok(())
}

/// The attribute's value with references resolved and whitespace normalised as XML requires.
fn value(a: &Attribute, pos: u64) -> Result<String, XmlError> {
    a.normalized_value(XmlVersion::Implicit1_0)
        .map(Cow::into_owned)
        .map_err(|err| XmlError::Malformed {
            position: pos,
            message: format!("attribute {}: {err}", truncate(a.key.as_ref())),
        })
}

fn number<T: FromStr>(a: &Attribute, pos: u64, element: &str) -> Result<T, XmlError> {
    let raw = a.value.trim_ascii();
    raw.parse().map_err(|_| XmlError::Malformed {
        position: pos,
        message: format!(
            "<{element}> attribute {} is not a valid number: {:?}",
            truncate(a.key.as_ref()),
            truncate(raw)
        ),
    })
}

/// Keeps hostile names and values short in error messages.
pub(super) fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}
