package scan

import (
	"fmt"
	"testing"
)

func TestFindNewDetectors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []hit
	}{
		{"ssn dashed", "ssn: 123-45-6789.", []hit{{DetectorSSN, "123-45-6789"}}},
		{"ssn spaced", "SSN 123 45 6789", []hit{{DetectorSSN, "123 45 6789"}}},
		{"ssn bare with word", "social security 123456789", []hit{{DetectorSSN, "123456789"}}},
		{"ssn bare alone", "count 123456789", nil},
		{"ssn area 000", "000-45-6789", nil},
		{"ssn area 666", "666-45-6789", nil},
		{"ssn area 9xx", "912-45-6789", nil},
		{"ssn group 00", "123-00-6789", nil},
		{"ssn serial 0000", "123-45-0000", nil},
		{"ssn sample card", "078-05-1120", nil},
		{"ssn longer", "123-45-67890", nil},
		{"ssn in id", "ORD-123-45-6789", nil},
		{"ssn then dash digit", "123-45-6789-1", nil},

		{"iban compact", "iban=DE89370400440532013000;", []hit{{DetectorIBAN, "DE89370400440532013000"}}},
		{"iban spaced", "IBAN DE89 3704 0044 0532 0130 00 EUR", []hit{{DetectorIBAN, "DE89 3704 0044 0532 0130 00"}}},
		{"iban gb", "GB29 NWBK 6016 1331 9268 19", []hit{{DetectorIBAN, "GB29 NWBK 6016 1331 9268 19"}}},
		{"iban fr", "FR1420041010050500013M02606", []hit{{DetectorIBAN, "FR1420041010050500013M02606"}}},
		{"iban dashed", "NL91-ABNA-0417-1643-00", []hit{{DetectorIBAN, "NL91-ABNA-0417-1643-00"}}},
		{"iban bad check", "DE89370400440532013001", nil},
		{"iban bad length", "DE8937040044053201300", nil},
		{"iban unknown country", "ZZ89370400440532013000", nil},
		{"iban double space", "DE89  3704 0044 0532 0130 00", nil},

		{"ipv4", "from 10.0.0.7 port", []hit{{DetectorIPv4, "10.0.0.7"}}},
		{"ipv4 end", "client=192.168.1.254", []hit{{DetectorIPv4, "192.168.1.254"}}},
		{"ipv4 octet too big", "10.0.0.256", nil},
		{"ipv4 leading zero", "10.0.0.07", nil},
		{"ipv4 three parts", "version 1.24.3", nil},
		{"ipv4 five parts", "1.3.6.1.4", nil},
		{"ipv4 in word", "v10.0.0.7", nil},
		{"ipv6", "addr 2001:db8::8a2e:370:7334 ok", []hit{{DetectorIPv6, "2001:db8::8a2e:370:7334"}}},
		{"ipv6 full", "fe80:0:0:0:202:b3ff:fe1e:8329", []hit{{DetectorIPv6, "fe80:0:0:0:202:b3ff:fe1e:8329"}}},
		{"ipv6 loopback", "[::1]:8080", []hit{{DetectorIPv6, "::1"}}},
		{"ipv6 mapped", "::ffff:10.0.0.1", []hit{{DetectorIPv6, "::ffff:10.0.0.1"}}},
		{"ipv6 time", "2024-06-11T10:15:30.123Z 10:15:30", nil},
		{"ipv6 mac", "00:1a:2b:3c:4d:5e", nil},
		{"ipv6 two compressions", "1::2::3", nil},
		{"ipv6 json", `{"a":"b","n":1}`, nil},

		{"aws secret", `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, []hit{
			{DetectorAWSSecret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		}},
		{"aws secret env", `AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"`, []hit{
			{DetectorAWSSecret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		}},
		{"aws secret json", `{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`, []hit{
			{DetectorAWSSecret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		}},
		{"aws secret no name", `token wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, nil},
		{"aws secret hex", `aws_secret_key=0123456789abcdef0123456789abcdef01234567`, nil},
		{"aws secret long", `aws_secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX`, nil},
		{"other secret", `client_secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, nil},

		{"phone us", "phone: (415) 555-0100", []hit{{DetectorPhone, "(415) 555-0100"}}},
		{"phone us dashed", "tel 415-555-0100", []hit{{DetectorPhone, "415-555-0100"}}},
		{"phone us dots", "Call 415.555.0100 today", []hit{{DetectorPhone, "415.555.0100"}}},
		{"phone uk", "mobile: 07700 900123", []hit{{DetectorPhone, "07700 900123"}}},
		{"phone fr", "tél. portable/phone 06 12 34 56 78", []hit{{DetectorPhone, "06 12 34 56 78"}}},
		{"phone bare", "phone=4155550100", []hit{{DetectorPhone, "4155550100"}}},
		{"phone no word", "order 415-555-0100", nil},
		{"phone too long", "phone 415-555-0100-12", nil},
		{"phone date", "phone updated 2024-06-11", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hits(tt.in, FindSet([]byte(tt.in), AllSet))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("FindSet(%q)\n got %v\nwant %v", tt.in, got, tt.want)
			}
		})
	}
}
