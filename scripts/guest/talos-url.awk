# Expands the variables of a talos.config= URL the way Talos does (siderolabs/talos,
# internal/app/machined/pkg/runtime/v1alpha1/platform/metal/url: Populate, Variable):
#
#  - only the query is looked at. It is parsed as Go's url.ParseQuery does: pairs split
#    on '&', key and value split at the first '=', '+' and %XX decoded, a pair whose key
#    holds ';' or that has a bad %-escape is dropped;
#  - in every value, ${uuid} ${serial} ${mac} ${hostname} are replaced, matched without
#    regard to case; a "uuid" key with no value ("?uuid=", the legacy form) gets the UUID;
#  - when none of them is present the URL is returned exactly as given;
#  - otherwise the query is re-encoded as Go's url.Values.Encode does: keys sorted
#    bytewise, key=value pairs joined by '&', every byte but [A-Za-z0-9_.~-] as %XX
#    (upper-case hex), spaces as '+'. So "?mac=${mac}" reaches the server as
#    "?mac=52%3A54%3A00%3A12%3A34%3A56", and the keys come out in sorted order.
#
# Usage (LC_ALL=C):
#   awk -v url=URL -v mac=MAC -v uuid=UUID -v serial=SERIAL -v hostname=NAME -f talos-url.awk
# prints the final URL, then one line "used NAME..." with the variables that were present.

function unescape(s, plus,    out, i, c, h) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "%") {
			h = substr(s, i + 1, 2)
			if (!(substr(h, 1, 1) in HEX) || !(substr(h, 2, 1) in HEX))
				return "\001BAD"
			out = out sprintf("%c", HEX[substr(h, 1, 1)] * 16 + HEX[substr(h, 2, 1)])
			i += 2
		} else if (c == "+" && plus) {
			out = out " "
		} else {
			out = out c
		}
	}
	return out
}

function escape(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c ~ /[A-Za-z0-9_.~-]/)
			out = out c
		else if (c == " ")
			out = out "+"
		else
			out = out sprintf("%%%02X", ORD[c])
	}
	return out
}

# Replaces every ${name} in s, in any case, with val.
function replace_var(s, name, val,    pat, out, i) {
	pat = "${" name "}"
	out = ""
	while ((i = index(tolower(s), pat)) > 0) {
		out = out substr(s, 1, i - 1) val
		s = substr(s, i + length(pat))
	}
	return out s
}

function has_var(s, name) {
	return index(tolower(s), "${" name "}") > 0
}

BEGIN {
	for (i = 0; i < 10; i++)
		HEX[i ""] = i
	for (i = 0; i < 6; i++) {
		HEX[substr("abcdef", i + 1, 1)] = 10 + i
		HEX[substr("ABCDEF", i + 1, 1)] = 10 + i
	}
	for (i = 1; i < 256; i++)
		ORD[sprintf("%c", i)] = i
	VALUE["uuid"] = uuid
	VALUE["serial"] = serial
	VALUE["mac"] = mac
	VALUE["hostname"] = hostname
	NVARS = split("uuid serial mac hostname", VARS, " ")

	rest = url
	frag = ""
	if ((i = index(rest, "#")) > 0) {
		frag = substr(rest, i)
		rest = substr(rest, 1, i - 1)
	}
	query = ""
	hasq = 0
	if ((i = index(rest, "?")) > 0) {
		query = substr(rest, i + 1)
		rest = substr(rest, 1, i - 1)
		hasq = 1
	}

	# Parse: keys in first-seen order, values per key in order.
	nkeys = 0
	n = split(query, pairs, "&")
	for (p = 1; p <= n; p++) {
		if (pairs[p] == "")
			continue
		k = pairs[p]
		v = ""
		if ((i = index(k, "=")) > 0) {
			v = substr(k, i + 1)
			k = substr(k, 1, i - 1)
		}
		if (index(k, ";") > 0)
			continue
		k = unescape(k, 1)
		v = unescape(v, 1)
		if (k == "\001BAD" || v == "\001BAD")
			continue
		if (!(k in NVAL)) {
			KEYS[++nkeys] = k
			NVAL[k] = 0
		}
		VAL[k, ++NVAL[k]] = v
	}

	# Which variables are present (Variable.Matches).
	used = ""
	for (j = 1; j <= NVARS; j++) {
		name = VARS[j]
		found = 0
		for (q = 1; q <= nkeys && !found; q++) {
			k = KEYS[q]
			if (name == "uuid" && k == "uuid" && !(NVAL[k] == 1 && VAL[k, 1] ~ /[^ \t\r\n]/))
				found = 1
			for (r = 1; r <= NVAL[k] && !found; r++)
				if (has_var(VAL[k, r], name))
					found = 1
		}
		if (found) {
			ACTIVE[name] = 1
			used = used " " name
		}
	}
	if (used == "") {
		print url
		print "used"
		exit 0
	}

	# Replace (Variable.Replace).
	for (q = 1; q <= nkeys; q++) {
		k = KEYS[q]
		if (("uuid" in ACTIVE) && k == "uuid" && !(NVAL[k] == 1 && VAL[k, 1] ~ /[^ \t\r\n]/)) {
			NVAL[k] = 1
			VAL[k, 1] = uuid
			continue
		}
		for (r = 1; r <= NVAL[k]; r++)
			for (j = 1; j <= NVARS; j++)
				if (VARS[j] in ACTIVE)
					VAL[k, r] = replace_var(VAL[k, r], VARS[j], VALUE[VARS[j]])
	}

	# Encode: keys sorted bytewise (insertion sort: queries are short).
	for (q = 2; q <= nkeys; q++) {
		k = KEYS[q]
		for (r = q - 1; r >= 1 && (KEYS[r] "") > (k ""); r--)
			KEYS[r + 1] = KEYS[r]
		KEYS[r + 1] = k
	}
	enc = ""
	for (q = 1; q <= nkeys; q++) {
		k = KEYS[q]
		for (r = 1; r <= NVAL[k]; r++)
			enc = enc (enc == "" ? "" : "&") escape(k) "=" escape(VAL[k, r])
	}
	print rest "?" enc frag
	print "used" used
}
