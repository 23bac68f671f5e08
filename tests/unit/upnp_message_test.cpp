// UPnP IGD parsers (UPnP Device Architecture 1.1): the bounded XML scanner, URLs, SSDP
// search responses, device descriptions and SOAP responses, with hostile inputs.
#include <gtest/gtest.h>

#include <string>

#include "nat/parse/upnp_message.hpp"
#include "nat/parse/upnp_xml.hpp"

using namespace pw::nat;

namespace {

HttpUrl url(const std::string& s) {
    std::string why;
    auto u = parse_http_url(s, why);
    EXPECT_TRUE(u) << s << ": " << why;
    return u ? *u : HttpUrl{};
}

const char* description_xml = R"(<?xml version="1.0"?>
<!-- a comment -->
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
    <friendlyName>Fake &amp; Router</friendlyName>
    <serviceList><service>
      <serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
      <controlURL>/l3f</controlURL>
    </service></serviceList>
    <deviceList><device>
      <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
      <deviceList><device>
        <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
        <serviceList>
          <service>
            <serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>
            <controlURL>/ppp</controlURL>
          </service>
          <service>
            <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
            <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
            <controlURL>ctl/IPConn</controlURL>
            <eventSubURL>/evt</eventSubURL>
          </service>
        </serviceList>
      </device></deviceList>
    </device></deviceList>
  </device>
</root>)";

}  // namespace

TEST(UpnpXml, ScansElementsTextAndEntities) {
    XmlScan s = scan_xml(R"(<?xml version="1.0"?><a x="1>2"><b>x &lt;&#65;&#x42;</b><c/><d><![CDATA[<raw>]]></d></a>)");
    ASSERT_TRUE(s.ok) << s.error;
    ASSERT_EQ(s.elements.size(), 4u);
    EXPECT_EQ(s.elements[1].name, "b");
    EXPECT_EQ(s.elements[1].text, "x <AB");
    EXPECT_EQ(s.elements[1].parent, 0);
    EXPECT_EQ(s.elements[2].name, "c");
    EXPECT_EQ(s.elements[3].text, "<raw>");
    EXPECT_EQ(scan_xml("<s:Envelope><s:Body/></s:Envelope>").elements[1].name, "Body");
}

TEST(UpnpXml, RefusesHostileDocuments) {
    EXPECT_FALSE(scan_xml("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").ok);
    EXPECT_FALSE(scan_xml("<a>&x;</a>").ok);
    EXPECT_FALSE(scan_xml("<a>&#0;</a>").ok);
    EXPECT_FALSE(scan_xml("<a>&#x110000;</a>").ok);
    EXPECT_FALSE(scan_xml("<a><b></a></b>").ok);
    EXPECT_FALSE(scan_xml("<a>").ok);
    EXPECT_FALSE(scan_xml("<a></a><b></b>").ok);
    EXPECT_FALSE(scan_xml("text<a></a>").ok);
    EXPECT_FALSE(scan_xml("").ok);
    EXPECT_FALSE(scan_xml("<a x=\"unterminated></a>").ok);
    EXPECT_FALSE(scan_xml("<a><!-- open </a>").ok);
    std::string deep;
    for (std::size_t i = 0; i <= max_xml_depth; ++i) deep += "<a>";
    for (std::size_t i = 0; i <= max_xml_depth; ++i) deep += "</a>";
    XmlScan d = scan_xml(deep);
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("deeper"), std::string::npos) << d.error;
    std::string wide = "<a>";
    for (std::size_t i = 0; i < max_xml_elements; ++i) wide += "<b/>";
    EXPECT_FALSE(scan_xml(wide + "</a>").ok);
    EXPECT_FALSE(scan_xml("<a>" + std::string(max_xml_size, 'x') + "</a>").ok);
}

TEST(UpnpUrl, ParsesAndResolves) {
    HttpUrl u = url("http://192.168.1.1:5000/rootDesc.xml?x=1#frag");
    EXPECT_EQ(u.host, "192.168.1.1");
    EXPECT_EQ(u.port, 5000);
    EXPECT_EQ(u.path, "/rootDesc.xml?x=1");
    EXPECT_EQ(u.to_string(), "http://192.168.1.1:5000/rootDesc.xml?x=1");
    EXPECT_EQ(url("http://[fe80::1]:80").host_header(), "[fe80::1]");
    EXPECT_EQ(url("HTTP://router").path, "/");
    std::string why;
    EXPECT_FALSE(parse_http_url("https://x/", why));
    EXPECT_FALSE(parse_http_url("http://x:0/", why));
    EXPECT_FALSE(parse_http_url("http://x:65536/", why));
    EXPECT_FALSE(parse_http_url("http://u@x/", why));
    EXPECT_FALSE(parse_http_url("http:///x", why));
    EXPECT_FALSE(parse_http_url("http://x/a b", why));
    EXPECT_FALSE(parse_http_url("http://x/a\r\nHost: y", why));
    HttpUrl base = url("http://10.0.0.1:1900/dir/desc.xml");
    EXPECT_EQ(resolve_url(base, "ctl", why)->to_string(), "http://10.0.0.1:1900/dir/ctl");
    EXPECT_EQ(resolve_url(base, "/ctl", why)->to_string(), "http://10.0.0.1:1900/ctl");
    EXPECT_EQ(resolve_url(base, "http://10.0.0.2/c", why)->to_string(), "http://10.0.0.2/c");
    EXPECT_FALSE(resolve_url(base, "ftp://x/c", why));
}

TEST(UpnpSsdp, ParsesASearchResponse) {
    SsdpResponse r = parse_ssdp_response(
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nlocation:  http://127.0.0.1:4000/desc.xml\r\n"
        "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:1::urn:x\r\n\r\n");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.location, "http://127.0.0.1:4000/desc.xml");
    EXPECT_EQ(r.location_url.port, 4000);
    EXPECT_EQ(r.st, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
    EXPECT_EQ(r.usn, "uuid:1::urn:x");
    EXPECT_EQ(encode_msearch("urn:x", 2),
              "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: urn:x\r\n\r\n");
}

TEST(UpnpSsdp, RefusesOtherDatagrams) {
    EXPECT_FALSE(parse_ssdp_response("M-SEARCH * HTTP/1.1\r\nST: x\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 404 Not Found\r\nLOCATION: http://a/\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 2000 OK\r\nLOCATION: http://a/\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 200 OK\r\nST: x\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 200 OK\r\nLOCATION: ftp://a/\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\nLOCATION: http://b/\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 200 OK\r\nbad line\r\n\r\n").ok);
    EXPECT_FALSE(parse_ssdp_response("HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\n" + std::string(max_ssdp_size, 'x')).ok);
}

TEST(UpnpDescription, PicksWanIpConnectionAndResolvesItsControlUrl) {
    IgdDescription d = parse_description(description_xml, url("http://127.0.0.1:4000/igd/desc.xml"));
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.service_type, "urn:schemas-upnp-org:service:WANIPConnection:1");
    EXPECT_EQ(d.control_url.to_string(), "http://127.0.0.1:4000/igd/ctl/IPConn");
    EXPECT_EQ(d.friendly_name, "Fake & Router");

    std::string with_base = description_xml;
    with_base.replace(with_base.find("<device>"), 8, "<URLBase>http://10.1.1.1:5555/base/</URLBase><device>");
    d = parse_description(with_base, url("http://127.0.0.1:4000/igd/desc.xml"));
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.control_url.to_string(), "http://10.1.1.1:5555/base/ctl/IPConn");
}

TEST(UpnpDescription, FallsBackToPppAndRefusesWithoutAService) {
    std::string ppp = description_xml;
    ppp.replace(ppp.find("WANIPConnection:1"), 17, "WANIPConnection:X");
    IgdDescription d = parse_description(ppp, url("http://127.0.0.1/"));
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.service_type, "urn:schemas-upnp-org:service:WANPPPConnection:1");
    EXPECT_EQ(d.control_url.path, "/ppp");
    std::string none = ppp;
    none.replace(none.find("WANPPPConnection:1"), 18, "WANPPPConnection:9");
    EXPECT_FALSE(parse_description(none, url("http://127.0.0.1/")).ok);
    EXPECT_FALSE(parse_description("<root><device>", url("http://127.0.0.1/")).ok);
    std::string bad_base = description_xml;
    bad_base.replace(bad_base.find("<device>"), 8, "<URLBase>gopher://x/</URLBase><device>");
    EXPECT_FALSE(parse_description(bad_base, url("http://127.0.0.1/")).ok);
}

TEST(UpnpSoap, EncodesRequests) {
    SoapRequest r = encode_add_port_mapping("urn:schemas-upnp-org:service:WANIPConnection:1", MapProtocol::udp,
                                            6882, 6881, "192.168.1.5", 3600, "piecewise <x>");
    EXPECT_EQ(r.soap_action, "\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"");
    EXPECT_NE(r.body.find("<NewExternalPort>6882</NewExternalPort><NewProtocol>UDP</NewProtocol>"
                          "<NewInternalPort>6881</NewInternalPort><NewInternalClient>192.168.1.5</NewInternalClient>"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("<NewPortMappingDescription>piecewise &lt;x&gt;</NewPortMappingDescription>"
                          "<NewLeaseDuration>3600</NewLeaseDuration>"),
              std::string::npos);
    XmlScan s = scan_xml(r.body);
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.elements[2].name, "AddPortMapping");
    EXPECT_NE(encode_delete_port_mapping("urn:x", MapProtocol::tcp, 7).body.find(
                  "<NewExternalPort>7</NewExternalPort><NewProtocol>TCP</NewProtocol>"),
              std::string::npos);
}

TEST(UpnpSoap, ParsesResponsesAndErrors) {
    SoapResponse ok = parse_soap_response(
        200,
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"e\"><s:Body><u:GetExternalIPAddressResponse xmlns:u=\"x\">"
        "<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>",
        "GetExternalIPAddress");
    ASSERT_TRUE(ok.ok) << ok.error;
    ASSERT_TRUE(ok.value("NewExternalIPAddress"));
    EXPECT_EQ(*ok.value("NewExternalIPAddress"), "203.0.113.7");
    EXPECT_FALSE(ok.value("Other"));

    SoapResponse err = parse_soap_response(
        500,
        "<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>725</errorCode>"
        "<errorDescription>OnlyPermanentLeasesSupported</errorDescription></UPnPError></detail></s:Fault></s:Body>"
        "</s:Envelope>",
        "AddPortMapping");
    EXPECT_FALSE(err.ok);
    EXPECT_EQ(err.upnp_error, 725);
    EXPECT_EQ(err.error, "UPnP error 725 (OnlyPermanentLeasesSupported)");

    EXPECT_FALSE(parse_soap_response(500, "<a/>", "X").ok);
    EXPECT_FALSE(parse_soap_response(200, "<s:Envelope><s:Body><XResponse/></s:Body></s:Envelope>", "Y").ok);
    EXPECT_TRUE(parse_soap_response(200, "<s:Envelope><s:Body><XResponse/></s:Body></s:Envelope>", "X").ok);
    EXPECT_FALSE(parse_soap_response(200, "not xml", "X").ok);
    SoapResponse bad_code =
        parse_soap_response(500, "<a><UPnPError><errorCode>-1</errorCode></UPnPError></a>", "X");
    EXPECT_FALSE(bad_code.ok);
    EXPECT_EQ(bad_code.upnp_error, 0);
}

TEST(UpnpSoap, ParsesIpv4Strictly) {
    auto a = parse_ipv4("203.0.113.7");
    ASSERT_TRUE(a);
    EXPECT_EQ((*a)[0], 203);
    EXPECT_EQ((*a)[3], 7);
    EXPECT_FALSE(parse_ipv4(""));
    EXPECT_FALSE(parse_ipv4("1.2.3"));
    EXPECT_FALSE(parse_ipv4("1.2.3.4.5"));
    EXPECT_FALSE(parse_ipv4("1.2.3.256"));
    EXPECT_FALSE(parse_ipv4("01.2.3.4"));
    EXPECT_FALSE(parse_ipv4("1.2.3.-4"));
}
