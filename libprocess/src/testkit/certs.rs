//! Test certificates, made by the `openssl` command in a directory the test
//! owns: a CA ([`TestCa`]) and the certificates it issues, each naming the
//! IPs a node listens on (rmesos checks certificates against IPs, see
//! `tls`). Also what an operator's mistakes look like: an expired
//! certificate, one from a CA nobody trusts, one naming another address.
//!
//! `openssl` is installed by `scripts/test.sh`; [`require_openssl`] fails a
//! test under CI (`CI=true`) when it is missing, and otherwise says loudly
//! that the test is skipped, as the ZooKeeper tests do.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::SslConfig;

/// True if `openssl` runs. Panics under CI (`CI=true`) when it does not;
/// otherwise prints a loud message and returns false.
pub fn require_openssl(test: &str) -> bool {
    let ok = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: the openssl command is required under CI (apt-get install -y openssl)");
    }
    eprintln!("\n!!!!! SKIPPING {test}: the openssl command is missing (apt-get install -y openssl) !!!!!\n");
    false
}

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A certificate authority in `dir`: `ca.pem` and `ca.key`.
#[derive(Debug, Clone)]
pub struct TestCa {
    dir: PathBuf,
    name: String,
}

/// Runs openssl with `args` in `dir`; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl TestCa {
    /// A new CA named `name` (its files `<name>.pem`, `<name>.key` in `dir`).
    pub fn new(dir: &Path, name: &str) -> TestCa {
        std::fs::create_dir_all(dir).expect("create the certificate directory");
        let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &pem,
                "-days",
                "3",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        TestCa { dir: dir.to_path_buf(), name: name.to_string() }
    }

    /// The CA's certificate (what `LIBPROCESS_SSL_CA_FILE` names).
    pub fn cert(&self) -> PathBuf {
        self.dir.join(format!("{}.pem", self.name))
    }

    /// A certificate for `name` naming `ips` (and `localhost`), valid for
    /// both server and client authentication, for three days from now.
    pub fn issue(&self, name: &str, ips: &[IpAddr]) -> Issued {
        self.sign(name, ips, None)
    }

    /// As [`TestCa::issue`], valid only during a day of 2020.
    pub fn issue_expired(&self, name: &str, ips: &[IpAddr]) -> Issued {
        self.sign(name, ips, Some(("20200101000000Z", "20200102000000Z")))
    }

    fn sign(&self, name: &str, ips: &[IpAddr], dates: Option<(&str, &str)>) -> Issued {
        let d = &self.dir;
        let (key, csr, pem, ext) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        let mut san: Vec<String> = ips.iter().map(|ip| format!("IP:{ip}")).collect();
        san.push("DNS:localhost".into());
        std::fs::write(
            d.join(&ext),
            format!(
                "subjectAltName={}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=serverAuth,clientAuth\n",
                san.join(",")
            ),
        )
        .expect("write the extensions file");
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        let (ca_pem, ca_key) = (format!("{}.pem", self.name), format!("{}.key", self.name));
        match dates {
            None => {
                let serial = format!("{}", rand::random::<u32>());
                openssl(
                    d,
                    &[
                        "x509",
                        "-req",
                        "-in",
                        &csr,
                        "-CA",
                        &ca_pem,
                        "-CAkey",
                        &ca_key,
                        "-set_serial",
                        &serial,
                        "-days",
                        "3",
                        "-extfile",
                        &ext,
                        "-out",
                        &pem,
                    ],
                );
            }
            // `openssl x509` sets no past dates; `openssl ca` does, with a
            // minimal database of its own.
            Some((start, end)) => {
                let db = d.join(format!("{name}.db"));
                std::fs::create_dir_all(&db).expect("create the CA database");
                std::fs::write(db.join("index.txt"), "").expect("write index.txt");
                std::fs::write(db.join("serial"), "01\n").expect("write serial");
                let cnf = format!(
                    "[ca]\ndefault_ca=d\n[d]\ndatabase={0}/index.txt\nnew_certs_dir={0}\nserial={0}/serial\n\
                     default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n",
                    db.display()
                );
                std::fs::write(d.join(format!("{name}.cnf")), cnf).expect("write the CA config");
                openssl(
                    d,
                    &[
                        "ca",
                        "-batch",
                        "-notext",
                        "-config",
                        &format!("{name}.cnf"),
                        "-cert",
                        &ca_pem,
                        "-keyfile",
                        &ca_key,
                        "-in",
                        &csr,
                        "-out",
                        &pem,
                        "-startdate",
                        start,
                        "-enddate",
                        end,
                        "-extfile",
                        &ext,
                    ],
                );
            }
        }
        Issued { cert: d.join(pem), key: d.join(key) }
    }

    /// The `SslConfig` of a node presenting `issued` and trusting this CA,
    /// with verification both ways (`VERIFY_SERVER_CERT`,
    /// `REQUIRE_CLIENT_CERT`) and no downgrade: the strict setting.
    pub fn strict(&self, issued: &Issued) -> SslConfig {
        SslConfig {
            enabled: true,
            cert_file: Some(issued.cert.clone()),
            key_file: Some(issued.key.clone()),
            ca_file: Some(self.cert()),
            verify_server_cert: true,
            require_client_cert: true,
            ..SslConfig::default()
        }
    }

    /// The `LIBPROCESS_SSL_*` variables of [`TestCa::strict`], for a child
    /// process.
    pub fn strict_env(&self, issued: &Issued) -> Vec<(String, String)> {
        [
            ("LIBPROCESS_SSL_ENABLED", "true".to_string()),
            ("LIBPROCESS_SSL_CERT_FILE", issued.cert.display().to_string()),
            ("LIBPROCESS_SSL_KEY_FILE", issued.key.display().to_string()),
            ("LIBPROCESS_SSL_CA_FILE", self.cert().display().to_string()),
            ("LIBPROCESS_SSL_VERIFY_SERVER_CERT", "true".to_string()),
            ("LIBPROCESS_SSL_REQUIRE_CLIENT_CERT", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
