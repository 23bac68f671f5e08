#!/usr/bin/env python3
"""A fake UPnP Internet Gateway Device (UPnP Device Architecture 1.1, WANIPConnection:1)
for the interop tests, standard library only. It answers SSDP M-SEARCH requests by unicast
on 127.0.0.1:SSDP_PORT (a LOCATION pointing at its HTTP server), serves the device
description at http://127.0.0.1:HTTP_PORT/desc.xml and the SOAP control URL /ctl: grants
every AddPortMapping (external address 203.0.113.7), answers GetExternalIPAddress and
DeletePortMapping. One line per request goes to its log:

    search ST urn:schemas-upnp-org:device:InternetGatewayDevice:1 from 127.0.0.2
    description from 127.0.0.2
    AddPortMapping TCP external 6881 internal 6881 client 127.0.0.2 lease 3600 from 127.0.0.2
    DeletePortMapping TCP external 6881 from 127.0.0.2

Usage: fake_igd.py SSDP_PORT HTTP_PORT LOGFILE [--multicast]. With --multicast it also
joins 239.255.255.250 on the loopback interface (for a test's own network namespace, where
the multicast route points at lo). Runs until killed."""
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1"


def description():
    return ("<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><specVersion><major>1</major>"
            "<minor>0</minor></specVersion><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1"
            "</deviceType><friendlyName>fake IGD</friendlyName><deviceList><device><deviceType>"
            "urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device><deviceType>"
            "urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service><serviceType>"
            + SERVICE + "</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>"
            "<controlURL>/ctl</controlURL><eventSubURL>/evt</eventSubURL><SCPDURL>/scpd.xml</SCPDURL>"
            "</service></serviceList></device></deviceList></device></deviceList></device></root>")


def arg(body, name):
    m = re.search(r"<%s>([^<]*)</%s>" % (name, name), body)
    return m.group(1) if m else "?"


def main():
    ssdp_port, http_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    log = open(log_path, "a", buffering=1)
    lock = threading.Lock()

    def write(line):
        with lock:
            log.write(line + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=\"utf-8\"")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path != "/desc.xml":
                self.reply(404, "")
                return
            write("description from %s" % self.client_address[0])
            self.reply(200, description())

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode(errors="replace")
            action = self.headers.get("SOAPAction", "").strip('"').split("#")[-1]
            peer = self.client_address[0]
            inner = ""
            if action == "AddPortMapping":
                write("AddPortMapping %s external %s internal %s client %s lease %s from %s" % (
                    arg(body, "NewProtocol"), arg(body, "NewExternalPort"), arg(body, "NewInternalPort"),
                    arg(body, "NewInternalClient"), arg(body, "NewLeaseDuration"), peer))
            elif action == "DeletePortMapping":
                write("DeletePortMapping %s external %s from %s" % (
                    arg(body, "NewProtocol"), arg(body, "NewExternalPort"), peer))
            elif action == "GetExternalIPAddress":
                write("GetExternalIPAddress from %s" % peer)
                inner = "<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress>"
            else:
                write("unsupported action %r from %s" % (action, peer))
                self.reply(500, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                                "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
                                "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>401"
                                "</errorCode><errorDescription>Invalid Action</errorDescription></UPnPError>"
                                "</detail></s:Fault></s:Body></s:Envelope>")
                return
            self.reply(200, "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                            "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:%sResponse "
                            "xmlns:u=\"%s\">%s</u:%sResponse></s:Body></s:Envelope>" % (action, SERVICE, inner, action))

    server = ThreadingHTTPServer(("127.0.0.1", http_port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if "--multicast" in sys.argv[4:]:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", ssdp_port))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        socket.inet_aton("239.255.255.250") + socket.inet_aton("127.0.0.1"))
    else:
        sock.bind(("127.0.0.1", ssdp_port))
    write("listening")
    while True:
        data, peer = sock.recvfrom(4096)
        text = data.decode(errors="replace")
        m = re.search(r"^ST:\s*(\S+)", text, re.M | re.I)
        if not text.startswith("M-SEARCH * HTTP/1.1\r\n") or not m:
            write("bad search of %d bytes from %s" % (len(data), peer[0]))
            continue
        write("search ST %s from %s" % (m.group(1), peer[0]))
        sock.sendto(("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\n"
                     "LOCATION: http://127.0.0.1:%d/desc.xml\r\nSERVER: Linux UPnP/1.1 fake/1\r\n"
                     "ST: %s\r\nUSN: uuid:fake-igd::%s\r\n\r\n" % (http_port, m.group(1), m.group(1))).encode(), peer)


if __name__ == "__main__":
    main()
