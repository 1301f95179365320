#!/bin/bash
# Writes the unit tests' sample keys with the tools that make them in practice, and facts.txt
# with what the tools say about them (SHA-256 fingerprints in hex). Run once; the outputs are
# committed so the unit tests need no tools. Debian packages: openssl, openssh-client,
# dropbear-bin, putty-tools, and a Java runtime for keytool (JKS).
set -euo pipefail
cd "$(dirname "$0")"
rm -f ec.* ed25519* dropbear_ed25519 putty* store.jks keypair.jks facts.txt
spki() { openssl pkey "$@" -pubout -outform DER | sha256sum | cut -c1-64; }
sshfp() { printf '%s=' "$(ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}' | cut -d: -f2)" | base64 -d | od -An -tx1 | tr -d ' \n'; }

openssl ecparam -name prime256v1 -genkey -noout -out ec.sec1.pem
openssl pkcs8 -topk8 -nocrypt -in ec.sec1.pem -out ec.pkcs8.pem
openssl pkcs8 -topk8 -in ec.sec1.pem -passout pass:secret -out ec.pkcs8-encrypted.pem
openssl req -new -x509 -sha1 -days 730 -key ec.sec1.pem -subj "/C=DE/O=Probity, Test/CN=unit" -out ec.crt.pem
openssl x509 -in ec.crt.pem -outform DER -out ec.crt.der
echo "ec $(spki -in ec.sec1.pem)" >> facts.txt

ssh-keygen -q -t ed25519 -N '' -C unit -f ed25519
ssh-keygen -q -t ed25519 -N secret -C unit -f ed25519-encrypted
echo "ed25519 $(sshfp ed25519.pub)" >> facts.txt
echo "ed25519-encrypted $(sshfp ed25519-encrypted.pub)" >> facts.txt

dropbearkey -t ed25519 -f dropbear_ed25519 >/dev/null 2>&1
dropbearkey -y -f dropbear_ed25519 2>/dev/null | grep '^ssh-' > dropbear.pub
echo "dropbear $(sshfp dropbear.pub)" >> facts.txt
rm dropbear.pub

puttygen -q -t ed25519 -C unit --new-passphrase /dev/null -o putty.ppk
printf 'secret\n' > pass.txt
puttygen -q -t ed25519 -C unit --new-passphrase pass.txt -o putty-encrypted.ppk
puttygen -q -t ed25519 -C unit --new-passphrase /dev/null --ppk-param version=2 -o putty-v2.ppk
rm pass.txt
for p in putty putty-encrypted putty-v2; do
    if [ $p = putty-encrypted ]; then printf 'secret\n' > pass.txt; opt=(--old-passphrase pass.txt); else opt=(); fi
    puttygen -q "${opt[@]}" $p.ppk -O public-openssh -o $p.pub
    echo "$p $(sshfp $p.pub)" >> facts.txt
    rm -f $p.pub pass.txt
done

keytool -importcert -noprompt -storetype JKS -keystore store.jks -storepass changeit -alias unit-ca \
    -file ec.crt.pem >/dev/null 2>&1
keytool -genkeypair -storetype JKS -keystore keypair.jks -storepass changeit -keypass changeit -alias device \
    -keyalg EC -groupname secp256r1 -dname "CN=jks" -validity 3650 >/dev/null 2>&1
keytool -exportcert -keystore keypair.jks -storepass changeit -alias device -rfc -file jks.pem >/dev/null 2>&1
echo "jks-keypair $(openssl x509 -in jks.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)" >> facts.txt
rm jks.pem
