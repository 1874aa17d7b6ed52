#!/usr/bin/perl
# Build tiny MaxMind-format test databases (GeoLite2-Country and -ASN
# layouts) for test_geoip, with test networks only (198.18.0.0/15,
# fd00::/8). Usage: make-geoip-db.pl OUTDIR  -> OUTDIR/country.mmdb, asn.mmdb
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUTDIR\n";

my %types = (
	country				=> 'map',
	iso_code			=> 'utf8_string',
	autonomous_system_number	=> 'uint32',
	autonomous_system_organization	=> 'utf8_string',
);

sub tree {
	my ($type) = @_;
	# IPv6 tree; IPv4 networks land in ::/96 where libmaxminddb looks
	# them up. The test ranges are "reserved": keep them.
	return MaxMind::DB::Writer::Tree->new(
		ip_version		=> 6,
		record_size		=> 24,
		database_type		=> $type,
		languages		=> ['en'],
		description		=> { en => "agentgate test $type" },
		map_key_type_callback	=> sub { $types{ $_[0] } },
		remove_reserved_networks => 0,
		merge_strategy		=> 'none',
	);
}

sub write_db {
	my ($tree, $path) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!\n";
	$tree->write_tree($fh);
	close($fh) or die "$path: $!\n";
}

my $country = tree('GeoLite2-Country');
$country->insert_network('198.18.0.0/16', { country => { iso_code => 'DE' } });
$country->insert_network('198.19.0.0/16', { country => { iso_code => 'JP' } });
$country->insert_network('fd00:a9::/32', { country => { iso_code => 'NL' } });
write_db($country, "$out/country.mmdb");

my $asn = tree('GeoLite2-ASN');
$asn->insert_network('198.19.0.0/24', {
	autonomous_system_number => 64500,
	autonomous_system_organization => 'Example Transit',
});
$asn->insert_network('fd00:a9:ff::/48', {
	autonomous_system_number => 64501,
	autonomous_system_organization => "Upstream \x{2603} Org",
});
write_db($asn, "$out/asn.mmdb");
