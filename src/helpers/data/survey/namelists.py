"""Danish person names for finding third parties in free text (used by :mod:`.privacy`).

Provenance. Compiled by hand for this package (MIT, like the code) from general knowledge of the
names borne in Denmark, across the generations who answer and are named in municipal survey
comments (born about 1940-2000), plus given names frequent among immigrants and their descendants.
The surnames start with the most frequent ones in Statistics Denmark's published lists (*Navne i hele
befolkningen pr. 1. januar*: Nielsen, Jensen, Hansen, Pedersen, Andersen, ... and, among names not
ending in -sen, Møller, Lund, Holm, Schmidt, Østergaard; NYT releases of January 2016 and 2018) and
continue with other common Danish surnames. It is **not** a copy of a Statistics Denmark file: their
full counts ("Hvor mange hedder ...") are a look-up service, not a download, and this package builds
offline. The lists are deliberately incomplete; :mod:`.privacy` adds rules for names they lack
(patronymic surnames in -sen/-søn, names after a greeting or a contact cue, initials), and the
docs/survey_exports.md reports recall and precision on a labelled set of comments, including names not listed here.

Each list is a set of casefolded names. ``AMBIGUOUS_FIRST`` are given names that are also everyday
words or abbreviations when capitalised at the start of a sentence ("Hans kontor ...", "Per uge ..."):
there they count only with a surname or a cue beside them.
"""

from __future__ import annotations

_FIRST = """
Aage Adam Agnes Ahmad Ahmed Aisha Aksel Albert Alberte Alexander Alexandra Alf Ali Alice Allan Alma
Amalie Amanda Amina Anders Andrea Andreas Anette Ann Anna Anne Anne-Grethe Anne-Lise Anne-Marie
Annelise Annemette Annette Annie Anton Arne Arnold Asger Astrid Aase Axel Ayse Bashir Benjamin Bent
Bente Berit Bettina Bibi Birgit Birgitte Birthe Bitten Bjarke Bjarne Bjørn Bo Bodil Britt Brian
Bruno Børge Camilla Carina Carl Carlo Carsten Casper Caroline Cecilie Charlotte Christel Christian
Christina Christine Christoffer Claus Clara Connie Conny Dagmar Dan Daniel David Dennis Ditte Dorte
Dorthe Edith Ejnar Elin Elisabeth Ella Ellen Else Elsebeth Ema Emil Emilie Emma Erik Erling Esben
Ester Esther Eva Fatima Fie Filip Finn Flemming Frank Frederik Freja Frida Frode Gerda Gert Gitte
Grete Grethe Gunnar Gurli Hamid Hanne Hans Hans-Henrik Hans-Jørgen Hassan Heidi Helene Helga Helle
Helmer Henning Henrik Herdis Hussein Ib Ida Inga Inge Inger Ingrid Irene Iris Isabella Jacob Jakob
Jan Jane Janne Jannie Jens Jesper Jette Joachim Johan Johanne Johannes John Jonas Jonathan Josefine
Julie Jytte Jørgen Jørn Kaj Kamilla Karen Kari Karin Karina Karl Karsten Kasper Kathrine Katrine
Keld Kell Kenneth Kent Kim Kirsten Kirstine Kjeld Klaus Knud Kristian Kristina Kristine Laila Lars
Laura Lea Leif Lena Lene Lilian Lillian Line Linda Lis Lisa Lisbet Lisbeth Lise Liselotte Lone
Lotte Louise Lucas Lukas Maiken Maja Malene Malthe Mads Magnus Maria Marianne Marie Mark Marlene
Martin Mathias Mathilde Merete Merethe Mette Mia Michael Michelle Mie Mikael Mikkel Mohamed Mohammad
Mohammed Mona Morten Mustafa Nadia Nanna Natasja Niels Nikolaj Nina Noah Ole Oliver Oscar Oskar
Palle Pernille Per Peter Pia Poul Preben Rasmus Rebecca Rene René Rikke Rita Robert Rolf Ruth Sabrina
Sanne Sara Sarah Sebastian Signe Simon Simone Sofie Sonja Stefan Steen Sten Stig Susanne Svend Sven
Søren Tage Tanja Thomas Thorkild Tina Tobias Tom Tommy Tonny Tove Trine Troels Ulla Ulrik Uffe Vagn
Valdemar Vibeke Victor Viggo Vilhelm Villads William Yasmin Yvonne Zainab Åse
"""

_SURNAMES = """
Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen Petersen
Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen Knudsen Jakobsen
Jacobsen Mikkelsen Olesen Frederiksen Laursen Henriksen Lund Holm Schmidt Eriksen Kristiansen Clausen
Simonsen Svendsen Andreasen Iversen Østergaard Jeppesen Vestergaard Nissen Lauridsen Kjær Jespersen
Mogensen Nørgaard Jepsen Frandsen Søndergaard Bertelsen Carlsen Kjeldsen Lassen Dam Bruun Friis
Bach Schou Berg Ravn Dahl Lind Toft Bech Brandt Winther Krogh Holst Skov Mathiesen Hedegaard Juhl
Gregersen Danielsen Mathiasen Steffensen Kofoed Thygesen Lauritsen Overgaard Bisgaard Damgaard
Bang Koch Munk Nygaard Kirkegaard Lorentzen Mouritsen Hougaard Ebbesen Abildgaard Beck Boesen Bak
Busk Buch Dalsgaard Demant Ditlevsen Enevoldsen Fischer Gade Graversen Hald Hjorth Hviid Ibsen Just
Kamp Kirk Klausen Kjærgaard Kragh Kruse Lange Leth Lykke Mark Mølgaard Nordahl Pallesen Pape Riis
Rosenberg Rytter Schultz Skovgaard Storm Thorsen Top Vind Vinther Wagner Wulff Aagaard Agerskov
Ahmed Ali Hassan Hussein Khan Mohamed Nguyen Yilmaz Demir Kaya
"""

FIRST_NAMES: frozenset[str] = frozenset(n.casefold() for n in _FIRST.split())
SURNAMES: frozenset[str] = frozenset(n.casefold() for n in _SURNAMES.split())
AMBIGUOUS_FIRST: frozenset[str] = frozenset(
    n.casefold() for n in "Hans Per Bo Kim Jan Kaj Tage Sten Mark Storm Lykke Alf Dan Ravn Tom".split()
)
