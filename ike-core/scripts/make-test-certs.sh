#!/usr/bin/env bash
# Generates the test PKI of ike-core's certificate tests into
# testdata/ike-core/certs/ (DER certificates, PKCS#8 DER keys, and
# PKCS#1 v1.5 signatures made by OpenSSL as known answers for our RSA).
#
# The outputs are committed; the tests read them and never run this. Run it
# again only to change the PKI (keys are random, so every run gives new
# bytes; the tests assert on structure and on OpenSSL's own signatures,
# never on particular key bytes). All validity periods are absolute, so the
# tests can pick a wall-clock time inside (or outside) them.
#
#   root CA (2048) ── lns (2048), client1 (2048), client1-expired,
#   │                 client1-future
#   other CA (2048) ─ client-other      (a CA the LNS does not trust)
#   big root (4096) ─ big-inter1 (4096) ─ big-inter2 (4096) ─ big-client (4096)
#                     (a chain of about 4 KiB sent in MM5: fragmentation)
#   rsa3072 key       (CRT signing at 3072 bits)
set -euo pipefail
cd "$(dirname "$0")/../../testdata/ike-core/certs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { # name bits
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -outform DER -out "$1.key" 2>/dev/null
}

cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = dflt
[dflt]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
organizationName = optional
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_lns]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = DNS:lns.example, IP:198.51.100.1
[v3_client]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
subjectAltName = email:client1@example.com, DNS:client1.example
[v3_big]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
subjectAltName = email:big@example.com
CNF

# issue NAME KEY SUBJECT ISSUER-NAME EXT START END
issue() {
    local name=$1 key=$2 subj=$3 issuer=$4 ext=$5 start=$6 end=$7
    : > "$work/index.txt"
    echo 1000 > "$work/serial"
    openssl req -new -key "$key.key" -keyform DER -subj "$subj" -out "$work/$name.csr" 2>/dev/null
    if [ "$issuer" = self ]; then
        openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$key.key" -keyform DER \
            -in "$work/$name.csr" -extensions "$ext" -startdate "$start" -enddate "$end" \
            -out "$work/$name.pem" 2>/dev/null
    else
        openssl x509 -in "$issuer.der" -inform DER -out "$work/issuer.pem"
        openssl ca -batch -config "$work/ca.cnf" -cert "$work/issuer.pem" -keyfile "$issuer.key" \
            -keyform DER -in "$work/$name.csr" -extensions "$ext" -startdate "$start" \
            -enddate "$end" -out "$work/$name.pem" 2>/dev/null
    fi
    openssl x509 -in "$work/$name.pem" -outform DER -out "$name.der"
}

long=(20250101000000Z 20450101000000Z)
key ca 2048;        issue ca ca "/O=Example/CN=Example Root CA" self v3_ca "${long[@]}"
key lns 2048;       issue lns lns "/O=Example/CN=lns.example" ca v3_lns "${long[@]}"
key client1 2048;   issue client1 client1 "/O=Example/CN=client1" ca v3_client "${long[@]}"
issue client1-expired client1 "/O=Example/CN=client1" ca v3_client 20200101000000Z 20210101000000Z
issue client1-future client1 "/O=Example/CN=client1" ca v3_client 20400101000000Z 20450101000000Z
key other-ca 2048;  issue other-ca other-ca "/O=Elsewhere/CN=Other CA" self v3_ca "${long[@]}"
key client-other 2048
issue client-other client-other "/O=Example/CN=client1" other-ca v3_client "${long[@]}"
key big-root 4096;  issue big-root big-root "/O=Example/CN=Example Big Root CA" self v3_ca "${long[@]}"
key big-inter1 4096; issue big-inter1 big-inter1 "/O=Example/CN=Example Intermediate CA 1" big-root v3_ca "${long[@]}"
key big-inter2 4096; issue big-inter2 big-inter2 "/O=Example/CN=Example Intermediate CA 2" big-inter1 v3_ca "${long[@]}"
key big-client 4096; issue big-client big-client "/O=Example/CN=big-client" big-inter2 v3_big "${long[@]}"
cat big-client.der big-inter2.der big-inter1.der > big-chain.der
key rsa3072 3072

# Known answers: EMSA-PKCS1-v1_5 without DigestInfo over a 20-octet
# "HASH_I" (what IKE signs), and with the SHA-256 DigestInfo, by OpenSSL.
printf 'IKE HASH_I 20 octets' > msg20.bin
for k in lns rsa3072 big-client; do
    openssl pkeyutl -sign -inkey "$k.key" -keyform DER -pkeyopt rsa_padding_mode:pkcs1 \
        -in msg20.bin -out "$k.sig-null.bin"
    openssl dgst -sha256 -sign <(openssl pkey -in "$k.key" -inform DER) -out "$k.sig-sha256.bin" msg20.bin
done
ls -l
