# A test PKI for the interop scripts, to be sourced: an openssl CA and RSA
# certificates for the gateway ("gw") and the client, whose OU names the
# tunnel group. Writes DIR/{ca,gw,client}.{pem,der}, the keys in PEM
# (*.key) and DER (*.key.der); openssl's output goes to DIR/openssl.out.
#
#   make_test_pki DIR ORG DOMAIN   # e.g. "$WORK/pki" "Interop Test" interop.test
#
# Subjects: /C=US/O=ORG/CN=ORG CA for the CA, and
# /C=US/O=ORG/OU=DefaultRAGroup/CN=NAME.DOMAIN for gw and client.
make_test_pki() {
    local dir="$1" org="$2" domain="$3"
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
            -subj "/C=US/O=$org/CN=$org CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        for n in gw client; do
            openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr \
                -subj "/C=US/O=$org/OU=DefaultRAGroup/CN=$n.$domain"
            printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nsubjectAltName=DNS:%s.%s\n' $n "$domain" >$n.ext
            openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 30 -extfile $n.ext
            openssl x509 -in $n.pem -outform der -out $n.der
            openssl rsa -in $n.key -outform der -out $n.key.der
        done
        openssl x509 -in ca.pem -outform der -out ca.der
    ) >"$dir/openssl.out" 2>&1 || { echo "openssl failed:"; cat "$dir/openssl.out"; return 1; }
}
