"""The libtorrent session every interop script starts: listening on 127.0.0.1 only, with DHT,
LSD, UPnP and NAT-PMP off, so that peers meet only the way a test intends.

tcp_only also turns uTP off and allows several connections from one IP (every peer here is
127.0.0.1); alert_mask defaults to every category.
"""
import libtorrent as lt


def loopback_session(tcp_only=False, alert_mask=None):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.all_categories if alert_mask is None else alert_mask,
    }
    if tcp_only:
        settings.update({
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "allow_multiple_connections_per_ip": True,
        })
    return lt.session(settings)
